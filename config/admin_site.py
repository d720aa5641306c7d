"""The district manager's admin site: Django's, except that a page listing what
a deletion would take along (or what protects an object from it) names the
objects of models the admin does not manage by their kind and number only.

Those are the patients, consultations, recordings and the like: deleting a
doctor or a station worker would otherwise list "Consultation: <patient's
name> / <doctor>" for everyone the person ever booked or saw.
"""

from django.contrib import admin
from django.contrib.admin.utils import NestedObjects, quote
from django.db import router
from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html
from django.utils.text import capfirst


class UnmanagedByNumber:
    """A ModelAdmin mixin; DistrictAdminSite gives it to every registered admin."""

    def get_deleted_objects(self, objs, request):
        # django.contrib.admin.utils.get_deleted_objects, but for the formatting.
        try:
            using = router.db_for_write(objs[0]._meta.model)
        except IndexError:
            return [], {}, set(), []
        collector = NestedObjects(using=using, origin=objs)
        collector.collect(objs)
        perms_needed = set()
        site = self.admin_site

        def describe(obj):
            opts = obj._meta
            if not site.is_registered(obj.__class__):
                return "%s #%s" % (capfirst(opts.verbose_name), obj.pk)
            if not site.get_model_admin(obj.__class__).has_delete_permission(request, obj):
                perms_needed.add(opts.verbose_name)
            try:
                url = reverse(f"{site.name}:{opts.app_label}_{opts.model_name}_change", args=[quote(obj.pk)])
            except NoReverseMatch:
                return "%s: %s" % (capfirst(opts.verbose_name), obj)
            return format_html('{}: <a href="{}">{}</a>', capfirst(opts.verbose_name), url, obj)

        to_delete = collector.nested(describe)
        protected = [describe(obj) for obj in collector.protected]
        counts = {model._meta.verbose_name_plural: len(found) for model, found in collector.model_objs.items()}
        return to_delete, counts, perms_needed, protected


class DistrictAdminSite(admin.AdminSite):
    def register(self, model_or_iterable, admin_class=None, **options):
        admin_class = admin_class or admin.ModelAdmin
        if not issubclass(admin_class, UnmanagedByNumber):
            admin_class = type(admin_class.__name__, (UnmanagedByNumber, admin_class), {"__module__": admin_class.__module__})
        super().register(model_or_iterable, admin_class, **options)
