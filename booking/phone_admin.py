"""How the district manager's admin shows people's phone numbers: masked
(+8491****678), and found only by a whole number typed in any form, never by a
part of one (searching by parts would spell a number out digit by digit)."""

from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db.models import Q

from booking.phones import mask_phone, normalize_phone


def masked_phone(field: str, description):
    """A ModelAdmin column (list_display, readonly_fields) of obj.<field>, masked."""

    @admin.display(description=description, ordering=field)
    def column(model_admin, obj):
        return mask_phone(getattr(obj, field)) or "—"

    return column


class WholeNumberSearch:
    """A ModelAdmin mixin: a search term that is a phone number matches the
    phone_search_fields exactly; anything else goes to search_fields, where a
    phone column should only be listed exact ("=number")."""

    phone_search_fields: tuple[str, ...] = ()

    def get_search_results(self, request, queryset, search_term):
        try:
            number = normalize_phone(search_term.strip())
        except ValidationError:
            return super().get_search_results(request, queryset, search_term)
        match = Q()
        for field in self.phone_search_fields:
            match |= Q(**{field: number})
        return queryset.filter(match), False
