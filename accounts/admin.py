"""django-axes' list of failed attempts, where "locked out" adds up an account's
(and an address's) recent attempts across rows, as the lockout itself does:
axes keeps a row per account and address, and judges each row alone."""

from axes import admin as axes_admin
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib import admin
from django.db.models import IntegerField, OuterRef, Q, Subquery, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext, gettext_lazy as _


def recent_failures(field: str):
    since = timezone.now() - settings.AXES_COOLOFF_TIME
    rows = AccessAttempt.objects.filter(**{field: OuterRef(field)}, attempt_time__gte=since).values(field)
    return Coalesce(Subquery(rows.annotate(total=Sum("failures_since_start")).values("total")[:1]), 0,
                    output_field=IntegerField())


class LockedOutFilter(axes_admin.IsLockedOutFilter):
    def queryset(self, request, queryset):
        locked = Q(account_failures__gte=settings.AXES_FAILURE_LIMIT) | Q(address_failures__gte=settings.AXES_FAILURE_LIMIT)
        if self.value() == "yes":
            return queryset.filter(locked)
        if self.value() == "no":
            return queryset.exclude(locked)
        return queryset


class AccessAttemptAdmin(axes_admin.AccessAttemptAdmin):
    list_filter = ["attempt_time", "path_info", LockedOutFilter]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(
            account_failures=recent_failures("username"), address_failures=recent_failures("ip_address")
        )

    @admin.display(description=_("Status"))
    def status(self, obj):
        limit = settings.AXES_FAILURE_LIMIT
        if obj.account_failures >= limit:
            return gettext("Account locked out")
        if obj.address_failures >= limit:
            return gettext("Address locked out")
        return gettext("%(count)s attempts left") % {"count": limit - max(obj.account_failures, obj.address_failures)}


admin.site.unregister(AccessAttempt)
admin.site.register(AccessAttempt, AccessAttemptAdmin)
