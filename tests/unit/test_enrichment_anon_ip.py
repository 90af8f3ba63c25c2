import pytest

from services.enrich.enrichments.anon_ip import AnonIp, AnonIpParameters
from tests.unit.enrichment_inputs import raw_event


@pytest.mark.parametrize(
    ("octets", "segments", "address", "expected"),
    [
        (1, None, "255.255.255.255", "255.255.255.x"),
        (2, None, "13.54.45.87", "13.54.x.x"),
        (3, None, "13.54.45.87", "13.x.x.x"),
        (4, None, "13.54.45.87", "x.x.x.x"),
        (1, 1, "2001:db8:85a3::8a2e:370:7334", "2001:db8:85a3:0:0:8a2e:370:x"),
        (1, None, "2001:db8:85a3::8a2e:370:7334", "2001:db8:85a3:0:0:8a2e:370:x"),
        (2, None, "2001:0DB8::FF00:42:8329", "2001:db8:0:0:0:ff00:x:x"),
        (1, 8, "::1", "x:x:x:x:x:x:x:x"),
        (4, None, "::ffff:1.2.3.4", "x.x.x.x"),
        (2, 3, "::ffff:1.2.3.4", "::ffff:1.2.x.x"),
        (2, 3, "::FFFF:1.2.3.4", "::FFFF:1.2.x.x"),
        (1, None, "unknown", "unknown"),
        # Text that is no address is masked as Snowplow masks it.
        (1, None, "256.1.1.1", "256.1.1.x"),
        (1, None, "1.2.3", "1.2.3"),
        (1, None, "01.2.3.4", "01.2.3.x"),
        (1, None, "2001:db8::zz", "2001:db8::zz:x:x:x:x"),
    ],
)
def test_the_end_of_the_address_becomes_xs(
    octets: int, segments: int | None, address: str, expected: str
) -> None:
    anon_ip = AnonIp(AnonIpParameters(anon_octets=octets, anon_segments=segments))
    event = {"user_ipaddress": address}
    assert anon_ip.apply(event, raw_event()) == []
    assert event == {"user_ipaddress": expected}


def test_an_event_without_address_is_left_alone() -> None:
    event: dict[str, str] = {"event": "page_view"}
    AnonIp(AnonIpParameters(anon_octets=1)).apply(event, raw_event())
    assert event == {"event": "page_view"}
