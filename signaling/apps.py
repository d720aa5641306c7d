from django.apps import AppConfig


class SignalingConfig(AppConfig):
    name = "signaling"

    def ready(self):
        from django.conf import settings

        from signaling.media.aioice_hooks import restrict_host_addresses
        from signaling.media.encoded import set_voice_bitrate

        restrict_host_addresses(settings.ICE_HOST_ADDRESSES)
        set_voice_bitrate(settings.AUDIO_BITRATE)
