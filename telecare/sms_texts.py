"""What a consultation's SMS say, in Vietnamese."""

from django.utils import timezone

from telecare.models import Consultation

# Vietnamese SMS, short enough for one GSM-7 segment once diacritics are
# dropped (SMS_UNICODE off); no reason or diagnosis ever goes in an SMS. Those
# that invite a reply carry the consultation's reference for this phone
# ({ref}, booking.replies), since one phone may serve several patients.
SMS_TEXTS = {
    "booked": "{station}: {name} có lịch khám từ xa với bác sĩ lúc {time} ngày {date}. Trả lời C {ref} để xác nhận, H {ref} để hủy.",
    "day_before": "{station}: nhắc {name} lịch khám từ xa {time} ngày mai {date}. Trả lời C {ref} để xác nhận, H {ref} để hủy.",
    "hours_before": "{station}: {name} có lịch khám từ xa lúc {time} hôm nay. Xin đến trạm trước 10 phút.",
    "rescheduled": "{station}: lịch khám của {name} đổi sang {time} ngày {date}. Trả lời C {ref} để xác nhận, H {ref} để hủy.",
    "cancelled": "{station}: lịch khám {time} ngày {date} của {name} đã hủy. Liên hệ trạm để đặt lịch mới.",
    "confirmed": "{station}: đã xác nhận lịch khám {time} ngày {date} của {name}. Cảm ơn!",
    "closed": "{station}: lịch khám này không còn hiệu lực. Xin liên hệ trạm nếu cần.",
}


INVITES_REPLY = {"booked", "day_before", "rescheduled"}


def sms_text(purpose: str, consultation: Consultation, *, ref: str = "") -> str:
    local = timezone.localtime(consultation.starts_at)
    return SMS_TEXTS[purpose].format(
        station=consultation.station.short_name, name=consultation.patient.given_name,
        time=f"{local:%H:%M}", date=f"{local:%d/%m}", ref=ref,
    )
