"""The job queue's own admin (procrastinate's), for superusers only.

Job arguments name questions and sources, and retrying or cancelling jobs is an operator's
call, so reviewers do not see it even though they are staff.
"""

from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from procrastinate.contrib.django import admin as procrastinate_admin
from procrastinate.contrib.django import models as procrastinate_models


class SuperuserJobAdmin(procrastinate_admin.ProcrastinateJobAdmin):
    def has_module_permission(self, request: HttpRequest) -> bool:
        return request.user.is_active and request.user.is_superuser

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.is_active and request.user.is_superuser


if admin.site.is_registered(procrastinate_models.ProcrastinateJob):
    admin.site.unregister(procrastinate_models.ProcrastinateJob)
admin.site.register(procrastinate_models.ProcrastinateJob, SuperuserJobAdmin)
