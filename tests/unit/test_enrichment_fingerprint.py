import pytest

from services.enrich.enrichments.event_fingerprint import (
    EventFingerprint,
    EventFingerprintParameters,
    parameters_text,
)
from tests.unit.enrichment_inputs import raw_event

# Sorted by name, minus eid/nuid/stm/cv, each name and value followed by the unit separator:
# "e\x1fpv\x1fp\x1fweb\x1ftv\x1fjs-3\x1f", as Snowplow writes them.
PARAMETERS = {"tv": "js-3", "eid": "4d0c", "p": "web", "stm": "1795000000000", "e": "pv", "cv": "x"}


@pytest.mark.parametrize(
    ("algorithm", "expected"),
    [
        ("MD5", "8700ddbce4afde1884d6e031ca40ace7"),
        ("SHA1", "424ebc19f670def5de8fdfd5a88623db2948a8a1"),
        ("SHA256", "dfec85abe862bd82fecd382903aa0eb3030f3d805bfb8c2ad8d9430d0363cf1e"),
        (
            "SHA384",
            "38b9619f435413cd90212e422f6494b261739e2d03953c8b36738966afa5449e"
            "7a3731b39b24eb6628601fead46b926e",
        ),
        (
            "SHA512",
            "a56096aee0b2755cf5c3a3d7304e84be60a2a495e806edb6e266060868f5d1d6"
            "ba789429593fd2bbf482f02ddd50b22321b27be539059f18cfaf94d57f3a2a49",
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
        ((), {"e": "pv", "p": "web", "tv": "js-3"}, "8700ddbce4afde1884d6e031ca40ace7"),
        (
            ("nuid",),
            {"e": "pv", "p": "web", "tv": "js-3", "nuid": "n1"},
            "8700ddbce4afde1884d6e031ca40ace7",
        ),
        # Non-ASCII values are hashed as UTF-8.
        (
            ("eid",),
            {"e": "pv", "p": "web", "tv": "js-3", "url": "été"},
            "9b513a7f1a71eae9bd08900fc0ce63c8",
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
        (["e"], {"e": "pv", "p": "web"}, "e\x1fpv\x1f"),
        (["e", "p"], {"p": "web", "e": "pv"}, "e\x1fpv\x1fp\x1fweb\x1f"),
        # A per cent sign in a name or a value is text, not a format.
        (["a%s", "b"], {"a%s": "%d", "b": "100%"}, "a%s\x1f%d\x1fb\x1f100%\x1f"),
        (["e", "url"], {"e": "pv", "url": ""}, "e\x1fpv\x1furl\x1f\x1f"),
    ],
)
def test_parameters_text(names: list[str], parameters: dict[str, str], text: str) -> None:
    assert parameters_text(names)(parameters) == text
