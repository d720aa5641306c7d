"""The step-down and step-up rules of signaling.media.quality, on a fake clock."""

from signaling.media.quality import (
    AUDIO_ONLY, BANDWIDTH_DOWN_AFTER, DOWN_AFTER, ESTIMATE_GRACE, UP_AFTER, LinkAdapter, call_levels,
)


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def run(adapter, clock, seconds, loss, estimate=None, sent="binding"):
    """`sent` defaults to what the estimate allows (the estimate binds)."""
    changes = []
    for _ in range(int(seconds)):
        clock.now += 1
        level = adapter.observe(loss, estimate, estimate if sent == "binding" else sent)
        if level is not None:
            changes.append((clock.now, level.name))
    return changes


def test_loss_steps_down_level_by_level_to_audio_only():
    clock = Clock()
    adapter = LinkAdapter(call_levels(300_000), clock=clock)
    assert run(adapter, clock, 5, loss=0.0, estimate=1_000_000) == []
    changes = run(adapter, clock, 12, loss=0.2)
    assert [name for _, name in changes] == ["medium", "low", "audio"]
    assert changes[0][0] - 5 <= DOWN_AFTER + 1  # within a couple of seconds
    assert adapter.level is AUDIO_ONLY and adapter.reason == "loss"


def test_a_short_burst_of_loss_changes_nothing():
    clock = Clock()
    adapter = LinkAdapter(call_levels(300_000), clock=clock)
    assert run(adapter, clock, 1, loss=0.3) == []
    assert run(adapter, clock, 10, loss=0.0) == []
    assert adapter.level.name == "high"


def test_a_low_bandwidth_estimate_steps_down_without_loss():
    clock = Clock()
    adapter = LinkAdapter(call_levels(300_000), clock=clock)
    changes = run(adapter, clock, 3 * (BANDWIDTH_DOWN_AFTER + 1), loss=0.0, estimate=40_000)
    assert [name for _, name in changes] == ["medium", "low", "audio"]
    assert adapter.reason == "bandwidth"


def test_a_dip_of_the_estimate_for_a_couple_of_seconds_changes_nothing():
    """A stalled sender's burst reads as queueing to the browser, whose estimate
    dips below what is sent and climbs back within seconds."""
    clock = Clock()
    adapter = LinkAdapter(call_levels(300_000), clock=clock)
    for _ in range(3):
        assert run(adapter, clock, BANDWIDTH_DOWN_AFTER - 1, loss=0.0, estimate=150_000) == []
        assert run(adapter, clock, 5, loss=0.0, estimate=400_000, sent=250_000) == []
    assert adapter.level.name == "high"


def test_recovery_steps_back_up_slowly_and_more_slowly_after_a_step_that_failed():
    clock = Clock()
    adapter = LinkAdapter(call_levels(300_000), clock=clock)
    run(adapter, clock, 12, loss=0.3)
    assert adapter.level is AUDIO_ONLY
    up = run(adapter, clock, UP_AFTER + 2, loss=0.0)
    assert [name for _, name in up] == ["low"] and adapter.reason == "recovered"
    run(adapter, clock, 3, loss=0.3)  # the step up did not hold
    assert adapter.level is AUDIO_ONLY
    assert run(adapter, clock, UP_AFTER + 2, loss=0.0) == []  # now it waits twice as long
    assert [name for _, name in run(adapter, clock, UP_AFTER, loss=0.0)] == ["low"]


def test_stepping_up_waits_for_an_estimate_that_fits_the_bigger_picture():
    clock = Clock()
    adapter = LinkAdapter(call_levels(300_000), clock=clock)
    run(adapter, clock, BANDWIDTH_DOWN_AFTER + 2, loss=0.0, estimate=120_000)  # too slow for 300 kbit/s
    assert adapter.level.name == "medium"
    assert run(adapter, clock, 30, loss=0.0, estimate=200_000) == []  # 300k needs more
    assert [name for _, name in run(adapter, clock, 10, loss=0.0, estimate=500_000)] == ["high"]


def test_an_estimate_that_fits_the_smallest_picture_keeps_it():
    clock = Clock()
    adapter = LinkAdapter(call_levels(300_000), clock=clock)
    run(adapter, clock, 20, loss=0.0, estimate=60_000)
    assert adapter.level.name == "low"


def test_an_estimate_that_does_not_bind_changes_nothing():
    """An easy picture needs little; the receiver's estimate stays near it."""
    clock = Clock()
    adapter = LinkAdapter(call_levels(300_000), clock=clock)
    assert run(adapter, clock, 20, loss=0.0, estimate=40_000, sent=20_000) == []


def test_audio_reports_every_few_seconds_are_enough_to_step_back_up():
    """Chromium reports on audio every 5 s or so; between two reports the last one stands."""
    clock = Clock()
    adapter = LinkAdapter(call_levels(300_000), clock=clock)
    run(adapter, clock, 12, loss=0.3)
    assert adapter.level is AUDIO_ONLY
    changes = []
    for second in range(1, 30):
        clock.now += 1
        level = adapter.observe(0.0 if second % 5 == 1 else None, None, None)
        if level is not None:
            changes.append((second, level.name))
    assert changes and changes[0][1] == "low" and changes[0][0] <= UP_AFTER + 1


def test_a_link_that_stops_reporting_is_not_stepped_up():
    clock = Clock()
    adapter = LinkAdapter(call_levels(300_000), clock=clock)
    run(adapter, clock, 12, loss=0.3)
    assert run(adapter, clock, 1, loss=0.0) == []
    assert run(adapter, clock, 60, loss=None) == []
    assert adapter.level is AUDIO_ONLY


def test_after_a_step_up_the_estimate_may_climb_before_it_counts():
    """Chromium's estimate stands still while no video comes (audio only) and
    climbs about 8% a second from there once it comes again."""
    clock = Clock()
    adapter = LinkAdapter(call_levels(300_000), clock=clock)
    run(adapter, clock, 3 * (BANDWIDTH_DOWN_AFTER + 1), loss=0.0, estimate=38_000)
    assert adapter.level is AUDIO_ONLY
    assert [name for _, name in run(adapter, clock, UP_AFTER + 1, loss=0.0, estimate=38_000)] == ["low"]
    changes = []
    estimate = 30_000.0
    for _ in range(25):
        clock.now += 1
        estimate *= 1.08
        level = adapter.observe(0.0, int(estimate), int(estimate))
        if level is not None:
            changes.append(level.name)
    assert "audio" not in changes


def test_an_estimate_that_stays_too_low_after_a_step_up_steps_down_again():
    clock = Clock()
    adapter = LinkAdapter(call_levels(300_000), clock=clock)
    run(adapter, clock, 3 * (BANDWIDTH_DOWN_AFTER + 1), loss=0.0, estimate=38_000)
    run(adapter, clock, UP_AFTER + 1, loss=0.0, estimate=38_000)
    assert adapter.level.name == "low"
    assert run(adapter, clock, ESTIMATE_GRACE - 1, loss=0.0, estimate=38_000) == []  # it may still climb
    assert [name for _, name in run(adapter, clock, BANDWIDTH_DOWN_AFTER + 2, loss=0.0, estimate=38_000)] == ["audio"]


def test_an_estimate_followed_in_bursts_still_binds():
    """An encoder that follows the estimate reopens with a keyframe at each
    change of its target: a second's rate swings around the estimate."""
    clock = Clock()
    adapter = LinkAdapter(call_levels(300_000), clock=clock)
    changes = []
    for second in range(int(2 * (BANDWIDTH_DOWN_AFTER + 2))):
        clock.now += 1
        level = adapter.observe(0.0, 90_000, (50_000, 110_000, 35_000, 95_000)[second % 4])
        if level is not None:
            changes.append(level.name)
    assert changes == ["medium", "low"] and adapter.reason == "bandwidth"
