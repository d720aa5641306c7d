"""API tokens are revoked when their user's password changes, by whatever path
(password change, reset, admin, set_password and save), and on logout."""

from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_out
from django.db.models.signals import post_save, pre_save
from rest_framework.authtoken.models import Token


def note_password_change(sender, instance, raw=False, update_fields=None, **kwargs):
    instance._password_changed = False
    if raw or instance.pk is None or (update_fields is not None and "password" not in update_fields):
        return
    stored = sender.objects.filter(pk=instance.pk).values_list("password", flat=True).first()
    instance._password_changed = stored is not None and stored != instance.password


def revoke_tokens_after_password_change(sender, instance, **kwargs):
    if getattr(instance, "_password_changed", False):
        Token.objects.filter(user=instance).delete()
        instance._password_changed = False


def revoke_tokens_on_logout(sender, request, user, **kwargs):
    if user is not None:
        Token.objects.filter(user=user).delete()


def connect():
    user_model = get_user_model()
    pre_save.connect(note_password_change, sender=user_model, dispatch_uid="accounts.note_password_change")
    post_save.connect(revoke_tokens_after_password_change, sender=user_model, dispatch_uid="accounts.revoke_tokens")
    user_logged_out.connect(revoke_tokens_on_logout, dispatch_uid="accounts.revoke_tokens_on_logout")
