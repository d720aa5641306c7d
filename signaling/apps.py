import sys

from django.apps import AppConfig


async def close_media() -> None:
    """Every media router's peers closed; nothing to do where no room ever opened."""
    router = sys.modules.get("signaling.media.router")
    if router is not None:
        await router.close_all()


class SignalingConfig(AppConfig):
    name = "signaling"

    def ready(self):
        from django.conf import settings

        from config.lifecycle import on_shutdown
        from signaling.media.aioice_hooks import restrict_host_addresses
        from signaling.media.encoded import set_voice_bitrate

        restrict_host_addresses(settings.ICE_HOST_ADDRESSES)
        set_voice_bitrate(settings.AUDIO_BITRATE)
        # Every peer closed before the process exits (aiortc's decoder threads are not daemons).
        on_shutdown(close_media)
