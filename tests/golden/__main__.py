"""`python -m tests.golden`: enrich the corpus and write the expected outputs again. Review the
diff: every changed line is a change to what the enricher writes."""

import sys

from tests.conftest import stale_modules
from tests.golden import corpus, enrich, enricher, write


def main() -> None:
    if stale := stale_modules():
        # The outputs would be those of the code as last compiled, not as it is now.
        sys.exit(f"compiled before their last edit: {', '.join(stale)}; run make install")
    core = enricher()
    for request in corpus():
        outputs = enrich(request, core)
        write(request["name"], outputs)
        print(f"{request['name']}: {len(outputs.good)} good, {len(outputs.bad)} bad")


if __name__ == "__main__":
    main()
