#!/bin/sh
# Imports Furrow's data views and dashboard (every *.ndjson here) through Kibana's saved-objects
# API. compose.yaml runs it once Kibana is healthy; run it again any time: objects are overwritten.
set -eu
KIBANA_URL="${KIBANA_URL:-http://kibana:5601}"
for objects in "$(dirname "$0")"/*.ndjson; do
  answer=$(curl -sS -X POST "$KIBANA_URL/api/saved_objects/_import?overwrite=true" \
    -H "kbn-xsrf: furrow" --form "file=@$objects")
  echo "$objects: $answer"
  # Kibana answers 200 even when objects failed; only "success":true means all went in.
  echo "$answer" | grep -q '"success":true'
done
