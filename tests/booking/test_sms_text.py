from booking.sms_text import is_gsm7, prepare, segments, strip_diacritics


def test_vietnamese_loses_its_diacritics_including_d_with_stroke():
    assert strip_diacritics("Trạm Y tế xã Phúc Thuận, Đại Từ, Định Hóa, Võ Nhai") == "Tram Y te xa Phuc Thuan, Dai Tu, Dinh Hoa, Vo Nhai"
    assert is_gsm7(strip_diacritics("Sảng Mộc: ưu đãi, hỏi ngã nặng"))


def test_segments_follow_gsm7_and_ucs2_limits():
    assert segments("a" * 160) == ("GSM-7", 1)
    assert segments("a" * 161) == ("GSM-7", 2)
    assert segments("a" * 306) == ("GSM-7", 2) and segments("a" * 307) == ("GSM-7", 3)
    assert segments("€" * 80) == ("GSM-7", 1) and segments("€" * 81) == ("GSM-7", 2)  # extension characters count twice
    assert segments("ạ" * 70) == ("UCS-2", 1)
    assert segments("ạ" * 71) == ("UCS-2", 2)
    assert segments("ạ" * 134) == ("UCS-2", 2) and segments("ạ" * 135) == ("UCS-2", 3)


def test_the_setting_chooses_whether_diacritics_are_sent():
    assert prepare("Lịch  khám\n9:00", unicode=True) == "Lịch khám 9:00"
    assert prepare("Lịch  khám\n9:00", unicode=False) == "Lich kham 9:00"
