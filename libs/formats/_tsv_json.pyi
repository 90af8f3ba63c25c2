from collections.abc import Callable

class Encoder:
    def __init__(
        self,
        names: tuple[str, ...],
        kinds: bytes,
        returned: tuple[int, ...],
        key_of: Callable[[int, str], str] | None = None,
        added: tuple[tuple[str, int] | tuple[str, int, int], ...] = (),
    ) -> None: ...
    def encode(self, line: str | bytes) -> tuple[bytes, tuple[str, ...]] | None: ...
