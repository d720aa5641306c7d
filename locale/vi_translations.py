"""Vietnamese texts for the interface, keyed by their English msgid.

Run `python locale/vi_translations.py` after `manage.py makemessages -l vi`:
it fills locale/vi/LC_MESSAGES/django.po and compiles it (msgfmt). Keeping
the texts here lets a reviewer read the whole vocabulary in one place.
"""

import re
import subprocess
import sys
from pathlib import Path

VI = {
    "Enter a Vietnamese phone number such as 0912 345 678 or +84912345678.": "Nhập số điện thoại Việt Nam, ví dụ 0912 345 678 hoặc +84912345678.",
    "Phone numbers are stored in E.164 form, for example +84912345678.": "Số điện thoại được lưu theo dạng E.164, ví dụ +84912345678.",
    "Geography": "Địa giới hành chính",
    "name": "tên",
    "province": "tỉnh",
    "provinces": "tỉnh",
    "district": "huyện",
    "districts": "huyện",
    "commune": "xã",
    "communes": "xã",
    "Vietnamese": "Tiếng Việt",
    "English": "Tiếng Anh",
    "Telehealth": "Khám chữa bệnh từ xa",
    "This booking is not possible.": "Không thể đặt lịch này.",
    "You may not do this for this patient or consultation.": "Bạn không có quyền thực hiện thao tác này với bệnh nhân hoặc lịch khám này.",
    "This time was just booked by someone else. Please choose another slot.": "Giờ này vừa được người khác đặt. Vui lòng chọn giờ khác.",
    "The patient already has a consultation at this time.": "Bệnh nhân đã có lịch khám khác vào giờ này.",
    "This consultation can no longer be changed.": "Lịch khám này không thể thay đổi nữa.",
    "The doctor does not offer a consultation at this time.": "Bác sĩ không nhận khám vào giờ này.",
    "This time has already passed.": "Giờ này đã qua.",
    "A consultation can only be closed once it has started.": "Chỉ ghi nhận kết quả khi buổi khám đã bắt đầu.",
    "Consultations can be booked at most %(days)s days ahead.": "Chỉ đặt lịch trước tối đa %(days)s ngày.",
    "Own phone": "Số điện thoại của bệnh nhân",
    "Relative's phone": "Số điện thoại người thân",
    "SMS reminders need the patient's or a relative's phone number.": "Muốn nhận tin nhắn nhắc lịch cần có số điện thoại của bệnh nhân hoặc người thân.",
    "Doctor": "Bác sĩ",
    "Time": "Thời gian",
    "Reason for the consultation": "Lý do khám",
    "Mode": "Hình thức",
    "New time": "Giờ mới",
    "Why is it cancelled?": "Lý do hủy",
    "address": "địa chỉ",
    "phone": "điện thoại",
    "district hospital": "bệnh viện huyện",
    "district hospitals": "bệnh viện huyện",
    "The district hospital this station refers patients to.": "Bệnh viện huyện mà trạm chuyển bệnh nhân lên.",
    "commune health station": "trạm y tế xã",
    "commune health stations": "trạm y tế xã",
    "Health-station worker": "Nhân viên trạm y tế",
    "Community digital-technology team member": "Thành viên tổ công nghệ số cộng đồng",
    "role": "vai trò",
    "station staff member": "nhân viên trạm",
    "station staff": "nhân viên trạm",
    "specialty": "chuyên khoa",
    "accepts bookings": "nhận đặt lịch",
    "doctor": "bác sĩ",
    "doctors": "bác sĩ",
    "Monday": "Thứ Hai",
    "Tuesday": "Thứ Ba",
    "Wednesday": "Thứ Tư",
    "Thursday": "Thứ Năm",
    "Friday": "Thứ Sáu",
    "Saturday": "Thứ Bảy",
    "Sunday": "Chủ Nhật",
    "weekday": "thứ",
    "from": "từ",
    "until": "đến",
    "slot length (minutes)": "thời lượng mỗi lượt (phút)",
    "weekly availability": "lịch làm việc hằng tuần",
    "first day": "ngày đầu",
    "last day": "ngày cuối",
    "note": "ghi chú",
    "leave": "nghỉ phép",
    "Female": "Nữ",
    "Male": "Nam",
    "Other": "Khác",
    "full name": "họ và tên",
    "date of birth": "ngày sinh",
    "sex": "giới tính",
    "own phone": "số điện thoại của bệnh nhân",
    "relative's name": "tên người thân",
    "relative's phone": "số điện thoại người thân",
    "agrees to SMS reminders": "đồng ý nhận tin nhắn nhắc lịch",
    "patient": "bệnh nhân",
    "patients": "bệnh nhân",
    "Booked": "Đã đặt",
    "Rescheduled": "Đã dời lịch",
    "Cancelled": "Đã hủy",
    "Completed": "Đã khám xong",
    "No-show": "Không đến",
    "Video": "Gọi video",
    "Audio only": "Chỉ âm thanh",
    "Raised on every change (iCalendar SEQUENCE).": "Tăng lên mỗi lần thay đổi (SEQUENCE của iCalendar).",
    "start": "bắt đầu",
    "end": "kết thúc",
    "reason": "lý do",
    "mode": "hình thức",
    "status": "trạng thái",
    "cancellation reason": "lý do hủy",
    "consultation": "lịch khám",
    "consultations": "lịch khám",
    "Viewed patient record": "Xem hồ sơ bệnh nhân",
    "Viewed consultation": "Xem lịch khám",
    "Patient listed in search results": "Bệnh nhân hiện trong kết quả tìm kiếm",
    "Registered patient": "Đăng ký bệnh nhân",
    "when": "thời điểm",
    "who": "người truy cập",
    "action": "thao tác",
    "page or endpoint": "trang hoặc API",
    "audit entry": "bản ghi truy cập",
    "audit log": "nhật ký truy cập",
    "'to' must not be before 'from'.": "'to' không được trước 'from'.",
    "Ask for at most %(days)s days at once.": "Mỗi lần chỉ hỏi tối đa %(days)s ngày.",
    "Enter the patient's full name.": "Nhập họ và tên bệnh nhân.",
    "audio only": "chỉ âm thanh",
    "Join": "Vào phòng khám",
    "No free slots in these days. Try the next week or another doctor.": "Không còn giờ trống trong những ngày này. Hãy xem tuần sau hoặc chọn bác sĩ khác.",
    "Book a consultation": "Đặt lịch khám",
    "Patient": "Bệnh nhân",
    "Choose a doctor": "Chọn bác sĩ",
    "Show free slots": "Xem giờ trống",
    "Free slots of %(name)s": "Giờ trống của %(name)s",
    "Next 7 days": "7 ngày tiếp theo",
    "Book": "Đặt lịch",
    "Consultation": "Lịch khám",
    "Station": "Trạm y tế",
    "Reason": "Lý do",
    "Cancellation reason": "Lý do hủy",
    "Join the call": "Vào cuộc gọi",
    "How did it go?": "Kết quả buổi khám",
    "Patient did not come": "Bệnh nhân không đến",
    "Move to another time": "Dời sang giờ khác",
    "Move": "Dời lịch",
    "Cancel": "Hủy lịch",
    "Cancel the consultation": "Hủy lịch khám",
    "My consultations": "Lịch khám của tôi",
    "Today": "Hôm nay",
    "No consultations today.": "Hôm nay không có lịch khám.",
    "This week": "Tuần này",
    "Nothing else booked this week.": "Tuần này không còn lịch khám nào khác.",
    "No role yet": "Tài khoản chưa được phân quyền",
    "Your account is neither station staff nor a doctor. Ask the district manager to set up your account.": "Tài khoản của bạn chưa thuộc trạm y tế hay bác sĩ nào. Vui lòng liên hệ quản trị viên huyện để được cấp quyền.",
    "Date of birth": "Ngày sinh",
    "Sex": "Giới tính",
    "Commune": "Xã",
    "Relative": "Người thân",
    "SMS reminders": "Tin nhắn nhắc lịch",
    "yes,no": "có,không",
    "Consultations": "Các lần khám",
    "None yet.": "Chưa có.",
    "Register a new patient": "Đăng ký bệnh nhân mới",
    "Register and book": "Đăng ký và đặt lịch",
    "Consultation room": "Phòng khám trực tuyến",
    "Video calls are not available yet in this version. Please call the station by phone at the booked time.": "Phiên bản này chưa có gọi video. Vui lòng gọi điện thoại cho trạm vào giờ đã hẹn.",
    "Back to the consultation": "Quay lại lịch khám",
    "Find a patient (name or phone)": "Tìm bệnh nhân (tên hoặc số điện thoại)",
    "e.g. Hoa or 0912...": "ví dụ: Hoa hoặc 0912...",
    "Search": "Tìm",
    "No patient of this station matches. Register the patient first.": "Không tìm thấy bệnh nhân của trạm. Hãy đăng ký bệnh nhân trước.",
    "Upcoming consultations": "Lịch khám sắp tới",
    "No consultations booked yet.": "Chưa có lịch khám nào.",
    "This page is for commune health-station staff.": "Trang này dành cho nhân viên trạm y tế xã.",
    "This page is for doctors.": "Trang này dành cho bác sĩ.",
    "Patient %(name)s registered.": "Đã đăng ký bệnh nhân %(name)s.",
    "Consultation booked.": "Đã đặt lịch khám.",
    "Please correct the errors below.": "Vui lòng sửa các lỗi bên dưới.",
    "Choose a new time.": "Hãy chọn giờ mới.",
    "Consultation moved.": "Đã dời lịch khám.",
    "Consultation cancelled.": "Đã hủy lịch khám.",
    "Unknown outcome.": "Kết quả không hợp lệ.",
    "Outcome recorded.": "Đã ghi nhận kết quả.",
    "Not allowed": "Không được phép",
    "You may not open this page.": "Bạn không được mở trang này.",
    "Back to the start page": "Về trang đầu",
    "Not found": "Không tìm thấy",
    "This page does not exist, or you may not see it.": "Trang này không tồn tại hoặc bạn không có quyền xem.",
    "Remote consultations": "Khám bệnh từ xa",
    "Log out": "Đăng xuất",
    "Log in": "Đăng nhập",
    "Wrong username or password. Please try again.": "Sai tên đăng nhập hoặc mật khẩu. Vui lòng thử lại.",
    "Username": "Tên đăng nhập",
    "Password": "Mật khẩu",
}

ENTRY = re.compile(r'(msgid ((?:"(?:[^"\\]|\\.)*"\n)+))msgstr ((?:"(?:[^"\\]|\\.)*"\n)+)')


def _unquote(block: str) -> str:
    return "".join(re.findall(r'"((?:[^"\\]|\\.)*)"', block)).replace('\\"', '"')


def _quote(text: str) -> str:
    return '"' + text.replace('"', '\\"') + '"\n'


def main() -> int:
    po = Path(__file__).parent / "vi" / "LC_MESSAGES" / "django.po"
    text = po.read_text(encoding="utf-8")
    missing = []

    def fill(match):
        msgid = _unquote(match.group(2))
        if not msgid:
            return match.group(0)  # the header
        if msgid not in VI:
            missing.append(msgid)
            return match.group(0)
        return f"{match.group(1)}msgstr {_quote(VI[msgid])}"

    text = ENTRY.sub(fill, text).replace("#, fuzzy\n", "", 1)
    text = text.replace('"Content-Type: text/plain; charset=CHARSET\\n"', '"Content-Type: text/plain; charset=UTF-8\\n"')
    po.write_text(text, encoding="utf-8")
    subprocess.run(["msgfmt", "--check-format", "-o", str(po.with_suffix(".mo")), str(po)], check=True)
    for msgid in missing:
        print(f"untranslated: {msgid}", file=sys.stderr)
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main())
