"""Issue 4's "done when": 10,000 visits pushed through a network that drops connections at random
arrive exactly once each on the real server, and the device loses none of them."""
from tests.support.devices import IN_SCOPE, device_household, flaky_proxy, logged_in_device, on_server, server_ids

VISITS = 10_000
BATCH = 500


def ten_thousand_visits(dev):
    """Queue 10,000 valid visits to distinct households in the collector's two villages."""
    return dev.collect([{"answers": device_household(f"{n}", members=n % 45 + 5, fibre_available="no"),
                         "village_code": IN_SCOPE[n % 2], "household_key": f"HH{n:05d}"}
                        for n in range(VISITS)])


def test_ten_thousand_visits_through_a_flaky_network_arrive_exactly_once_and_none_is_lost(
        tmp_path, server, survey):
    proxy = flaky_proxy(server, drop_rate=0.3, seed=20250704)
    dev = logged_in_device(tmp_path / "device", server)
    dev.outbox.set(server_url=proxy.url)  # from now on every request crosses the flaky network
    queued = {item.instance_id: item.answers for item in ten_thousand_visits(dev)}
    pushes = 0
    while dev.outbox.counts()["queued"] and pushes < 20:
        dev.push(batch_size=BATCH)
        pushes += 1
    proxy.close()

    dropped = sum(number for mode, number in proxy.counts.items() if mode != "pass")
    assert dropped > 0, proxy.counts
    assert on_server(survey) == {"accepted": VISITS}
    assert server_ids(survey) == sorted(queued)
    counts = dev.outbox.counts()
    assert counts["total"] == VISITS and counts["sent"] == VISITS
    assert counts["queued"] == 0 and counts["rejected"] == 0 and counts["sent_conflict"] == 0
    assert {s.instance_id: s.answers for s in dev.outbox.submissions()} == queued
    dev.close()
