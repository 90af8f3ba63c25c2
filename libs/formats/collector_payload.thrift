// The raw record Snowplow collectors write and enrichers read:
// iglu:com.snowplowanalytics.snowplow/CollectorPayload/thrift/1-0-0, Thrift binary protocol.
// Field ids are the public ones; changing any breaks compatibility with Snowplow's enrichers.
struct CollectorPayload {
  31337: string schema
  100: string ipAddress
  200: i64 timestamp
  210: string encoding
  220: string collector
  300: optional string userAgent
  310: optional string refererUri
  320: optional string path
  330: optional string querystring
  340: optional string body
  350: optional list<string> headers
  360: optional string contentType
  400: optional string hostname
  410: optional string networkUserId
}
