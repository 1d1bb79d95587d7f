import pytest
from django.contrib.auth import get_user_model

from tests import factories

pytestmark = pytest.mark.django_db(transaction=True)


async def test_acreate_writes_a_row_from_async_code():
    user = await factories.UserFactory.acreate(username="ada")

    stored = await get_user_model().objects.aget(pk=user.pk)
    assert stored.username == "ada"
    assert stored.email == "ada@example.com"


async def test_sync_create_inside_the_event_loop_says_what_to_do_instead():
    with pytest.raises(factories.SyncCreateInEventLoop, match=r"await UserFactory\.acreate"):
        factories.UserFactory.create()
    assert await get_user_model().objects.acount() == 0


def test_sync_create_still_works_in_sync_tests():
    user = factories.UserFactory.create()

    assert get_user_model().objects.filter(pk=user.pk).exists()
