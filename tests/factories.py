"""factory-boy factories. Create rows with ``await SomeFactory.acreate(...)`` in async tests."""

import asyncio
from typing import Any

import factory
from asgiref.sync import sync_to_async
from django.contrib.auth import get_user_model


class SyncCreateInEventLoop(RuntimeError):
    """A factory was asked to write synchronously from inside a running event loop."""


class AsyncFactory(factory.django.DjangoModelFactory):
    """A model factory whose ``create`` refuses to block a running event loop.

    Django raises ``SynchronousOnlyOperation`` deep inside the ORM in that case; failing early
    with the fix in the message saves a debugging session.
    """

    class Meta:
        abstract = True

    @classmethod
    def _create(cls, model_class: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return super()._create(model_class, *args, **kwargs)
        raise SyncCreateInEventLoop(
            f"{cls.__name__}.create() was called inside a running event loop; "
            f"use `await {cls.__name__}.acreate(...)` instead."
        )

    @classmethod
    async def acreate(cls, **kwargs: Any) -> Any:
        return await sync_to_async(cls.create, thread_sensitive=True)(**kwargs)

    @classmethod
    async def acreate_batch(cls, size: int, **kwargs: Any) -> list[Any]:
        return await sync_to_async(cls.create_batch, thread_sensitive=True)(size, **kwargs)


class UserFactory(AsyncFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda user: f"{user.username}@example.com")
    password = factory.django.Password("correct horse battery staple")
    is_staff = False
