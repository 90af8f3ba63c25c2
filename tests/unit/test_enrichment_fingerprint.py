import pytest

from services.enrich.enrichments.event_fingerprint import EventFingerprint, parameters_text
from services.enrich.enrichments.parameters import EventFingerprintParameters
from tests.unit.enrichment_inputs import raw_event

# Sorted by name, minus eid/nuid/stm/cv, written name then value: "e" "pv" "p" "web" "tv" "js-3".
PARAMETERS = {"tv": "js-3", "eid": "4d0c", "p": "web", "stm": "1795000000000", "e": "pv", "cv": "x"}


@pytest.mark.parametrize(
    ("algorithm", "expected"),
    [
        ("MD5", "223de6287972a1297af23ed900e3b3ea"),
        ("SHA1", "103c3ce36bf4626f46756cf35336bdf25fe4eda0"),
        ("SHA256", "c54ab81f2cc40e61daba73923005975738775e80b797a1549d579db1866987f0"),
        (
            "SHA384",
            "6a2671d72d2611058f224152159181e73e998c52fe9fda597dda847435374e0c"
            "954eb8b56b3e8db22a426fa39a20936b",
        ),
        (
            "SHA512",
            "31ad733c6f66d3de6c9988bae9600103504ff43da4046079dfbdbebc80050506"
            "b5f4810a23353300d823386dbb2b40f298e17440f5719bd0173b86015211e89d",
        ),
    ],
)
def test_hash_of_the_sorted_parameters_minus_the_excluded(algorithm: str, expected: str) -> None:
    enrichment = EventFingerprint(
        EventFingerprintParameters.model_validate({"hashAlgorithm": algorithm})
    )
    event: dict[str, str] = {}
    assert enrichment.apply(event, raw_event(PARAMETERS)) == []
    assert event == {"event_fingerprint": expected}


@pytest.mark.parametrize(
    ("excluded", "parameters", "expected"),
    [
        # Only the excluded parameters differ: one fingerprint for a retried send.
        ((), {"e": "pv", "p": "web", "tv": "js-3"}, "223de6287972a1297af23ed900e3b3ea"),
        (
            ("nuid",),
            {"e": "pv", "p": "web", "tv": "js-3", "nuid": "n1"},
            "223de6287972a1297af23ed900e3b3ea",
        ),
        # Non-ASCII values are hashed as UTF-8.
        (
            ("eid",),
            {"e": "pv", "p": "web", "tv": "js-3", "url": "été"},
            "20b689ea8b8579f922624e35304a7e49",
        ),
    ],
)
def test_excluded_parameters_are_configurable(
    excluded: tuple[str, ...], parameters: dict[str, str], expected: str
) -> None:
    enrichment = EventFingerprint(EventFingerprintParameters(exclude_parameters=excluded))
    assert enrichment.fingerprint(parameters) == expected


def test_a_changed_parameter_changes_the_fingerprint() -> None:
    enrichment = EventFingerprint(EventFingerprintParameters())
    first = enrichment.fingerprint({"e": "pv", "dtm": "1"})
    assert first != enrichment.fingerprint({"e": "pv", "dtm": "2"})
    assert first == enrichment.fingerprint({"dtm": "1", "e": "pv", "stm": "9"})


@pytest.mark.parametrize(
    ("names", "parameters", "text"),
    [
        ([], {"e": "pv"}, ""),
        (["e"], {"e": "pv", "p": "web"}, "epv"),
        (["e", "p"], {"p": "web", "e": "pv"}, "epvpweb"),
        # A per cent sign in a name or a value is text, not a format.
        (["a%s", "b"], {"a%s": "%d", "b": "100%"}, "a%s%db100%"),
        (["e", "url"], {"e": "pv", "url": ""}, "epvurl"),
    ],
)
def test_parameters_text(names: list[str], parameters: dict[str, str], text: str) -> None:
    assert parameters_text(names)(parameters) == text
