"""The schemas built into Furrow (libs/builtin_schemas, served by `BuiltinRepository`): each one
accepts and refuses what the schema of the same key in Iglu Central does, and the resolver
consults them only after the registry and the repositories ranked before them.

Every row of VERDICTS is an instance and the verdict Iglu Central's schema gives it, worked out
from the upstream schema's properties, types, formats, bounds and required fields."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from iglu_registry.lint import errors, lint
from libs.formats.iglu import SchemaKey
from libs.iglu_client import (
    DirectoryRepository,
    RepositoryError,
    RepositorySettings,
    ResolutionError,
    Resolver,
)
from libs.iglu_repositories import (
    BUILTIN_NAME,
    BuiltinRepository,
    resolver_repositories,
)
from tests.schema_trees import write_schema

SP = "com.snowplowanalytics.snowplow"
MOBILE = "com.snowplowanalytics.mobile"
UUID = "6a4e7e3c-2a55-4b7e-9a3d-8f0e61f1c2b4"
OK, BAD = True, False

VERDICTS: list[tuple[str, Any, bool]] = [
    # web page entity: one UUID-shaped id and nothing else
    (f"{SP}/web_page/jsonschema/1-0-0", {"id": UUID}, OK),
    (f"{SP}/web_page/jsonschema/1-0-0", {"id": "page-1"}, BAD),
    (f"{SP}/web_page/jsonschema/1-0-0", {"id": UUID, "url": "x"}, BAD),
    (f"{SP}/web_page/jsonschema/1-0-0", {}, BAD),
    # client session
    (
        f"{SP}/client_session/jsonschema/1-0-2",
        {
            "userId": UUID,
            "sessionId": UUID,
            "sessionIndex": 3,
            "storageMechanism": "COOKIE_1",
            "eventIndex": 2,
            "previousSessionId": None,
            "firstEventId": UUID,
            "firstEventTimestamp": "2026-12-03T08:00:00.123Z",
        },
        OK,
    ),
    (
        f"{SP}/client_session/jsonschema/1-0-2",
        {
            "userId": "0123456789abcdef",
            "sessionId": UUID,
            "sessionIndex": 0,
            "storageMechanism": "SQLITE",
        },
        OK,
    ),
    (
        f"{SP}/client_session/jsonschema/1-0-2",
        {"userId": UUID, "sessionId": UUID, "sessionIndex": 1, "storageMechanism": "DISK"},
        BAD,
    ),
    (
        f"{SP}/client_session/jsonschema/1-0-2",
        {"userId": "USER", "sessionId": UUID, "sessionIndex": 1, "storageMechanism": "SQLITE"},
        BAD,
    ),
    (
        f"{SP}/client_session/jsonschema/1-0-2",
        {"userId": UUID, "sessionId": "x", "sessionIndex": 1, "storageMechanism": "SQLITE"},
        BAD,
    ),
    (
        f"{SP}/client_session/jsonschema/1-0-2",
        {"userId": UUID, "sessionId": UUID, "sessionIndex": -1, "storageMechanism": "SQLITE"},
        BAD,
    ),
    (f"{SP}/client_session/jsonschema/1-0-2", {"userId": UUID, "sessionId": UUID}, BAD),
    # browser context
    (
        f"{SP}/browser_context/jsonschema/2-0-0",
        {
            "viewport": "1200x900",
            "documentSize": "1200x3000",
            "resolution": "1920x1080",
            "colorDepth": 24,
            "cookiesEnabled": True,
            "online": True,
            "devicePixelRatio": 1.5,
            "browserLanguage": "en-GB",
            "webdriver": True,
            "hardwareConcurrency": 8,
            "tabId": UUID,
        },
        OK,
    ),
    (
        f"{SP}/browser_context/jsonschema/2-0-0",
        {"viewport": "1x1", "documentSize": "1x1", "resolution": "1x1", "colorDepth": 24},
        BAD,
    ),
    (
        f"{SP}/browser_context/jsonschema/2-0-0",
        {
            "viewport": "1x1",
            "documentSize": "1x1",
            "resolution": "1x1",
            "colorDepth": 1001,
            "cookiesEnabled": True,
            "online": True,
        },
        BAD,
    ),
    (
        f"{SP}/browser_context/jsonschema/2-0-0",
        {
            "viewport": "1x1",
            "documentSize": "1x1",
            "resolution": "1x1",
            "colorDepth": 24,
            "cookiesEnabled": True,
            "online": True,
            "tabId": "tab-1",
        },
        BAD,
    ),
    # link click
    (f"{SP}/link_click/jsonschema/1-0-1", {"targetUrl": "https://a.example/"}, OK),
    (
        f"{SP}/link_click/jsonschema/1-0-1",
        {"targetUrl": "/x", "elementId": "", "elementClasses": ["a"], "elementTarget": "_blank"},
        OK,
    ),
    (f"{SP}/link_click/jsonschema/1-0-1", {"targetUrl": ""}, BAD),
    (f"{SP}/link_click/jsonschema/1-0-1", {"elementId": "a"}, BAD),
    (f"{SP}/link_click/jsonschema/1-0-1", {"targetUrl": "/x", "elementClasses": "a"}, BAD),
    # forms
    (
        f"{SP}/submit_form/jsonschema/1-0-0",
        {
            "formId": "signup",
            "formClasses": [],
            "elements": [{"name": "email", "value": None, "nodeName": "INPUT", "type": "email"}],
        },
        OK,
    ),
    (
        f"{SP}/submit_form/jsonschema/1-0-0",
        {"formId": "f", "elements": [{"name": "x", "value": "1", "nodeName": "BUTTON"}]},
        BAD,
    ),
    (f"{SP}/submit_form/jsonschema/1-0-0", {"formId": "f", "elements": [{"name": "x"}]}, BAD),
    (
        f"{SP}/change_form/jsonschema/1-0-0",
        {"formId": "f", "elementId": "e", "nodeName": "SELECT", "value": "b"},
        OK,
    ),
    (
        f"{SP}/change_form/jsonschema/1-0-0",
        {"formId": "f", "elementId": "e", "nodeName": "INPUT", "type": "weird", "value": None},
        BAD,
    ),
    (
        f"{SP}/focus_form/jsonschema/1-0-0",
        {
            "formId": "f",
            "elementId": "e",
            "nodeName": "TEXTAREA",
            "elementType": "text",
            "value": "",
        },
        OK,
    ),
    # `elementType` may be null by its type, but null is not in its enum.
    (
        f"{SP}/focus_form/jsonschema/1-0-0",
        {"formId": "f", "elementId": "e", "nodeName": "INPUT", "elementType": None, "value": ""},
        BAD,
    ),
    (f"{SP}/focus_form/jsonschema/1-0-0", {"formId": "f", "elementId": "e", "value": ""}, BAD),
    # application error
    (
        f"{SP}/application_error/jsonschema/1-0-2",
        {"programmingLanguage": "JAVASCRIPT", "message": "boom", "lineNumber": 3, "isFatal": None},
        OK,
    ),
    (
        f"{SP}/application_error/jsonschema/1-0-2",
        {"programmingLanguage": "COBOL", "message": "x"},
        BAD,
    ),
    (
        f"{SP}/application_error/jsonschema/1-0-2",
        {"programmingLanguage": "JAVA", "message": "x" * 2049},
        BAD,
    ),
    (
        f"{SP}/application_error/jsonschema/1-0-2",
        {"programmingLanguage": "JAVA", "message": "x", "lineNumber": -1},
        BAD,
    ),
    # timing, performance
    (f"{SP}/timing/jsonschema/1-0-0", {"category": "c", "variable": "v", "timing": 12.5}, OK),
    (f"{SP}/timing/jsonschema/1-0-0", {"category": "c", "variable": "v"}, BAD),
    ("org.w3/PerformanceTiming/jsonschema/1-0-0", {"navigationStart": 1, "domComplete": 2}, OK),
    ("org.w3/PerformanceTiming/jsonschema/1-0-0", {}, BAD),
    ("org.w3/PerformanceTiming/jsonschema/1-0-0", {"navigationStart": 1, "toJSON": {}}, BAD),
    # client hints, GA cookies
    (
        "org.ietf/http_client_hints/jsonschema/1-0-0",
        {"isMobile": False, "brands": [{"brand": "Chromium", "version": "120"}], "model": None},
        OK,
    ),
    ("org.ietf/http_client_hints/jsonschema/1-0-0", {"isMobile": False}, BAD),
    (
        "org.ietf/http_client_hints/jsonschema/1-0-0",
        {"isMobile": False, "brands": [{"brand": "Chromium"}]},
        BAD,
    ),
    ("com.google.analytics/cookies/jsonschema/1-0-0", {"_ga": "GA1.1.1.1"}, OK),
    ("com.google.analytics/cookies/jsonschema/1-0-0", {}, OK),
    ("com.google.analytics/cookies/jsonschema/1-0-0", {"_gid": "x"}, BAD),
    # geolocation
    (f"{SP}/geolocation_context/jsonschema/1-1-0", {"latitude": 51.5, "longitude": -0.1}, OK),
    (
        f"{SP}/geolocation_context/jsonschema/1-1-0",
        {"latitude": 1, "longitude": 1, "timestamp": 1.5},
        BAD,
    ),
    (f"{SP}/geolocation_context/jsonschema/1-1-0", {"latitude": 91, "longitude": 0}, BAD),
    # consent, GDPR
    (f"{SP}/consent_document/jsonschema/1-0-0", {"id": "1", "version": "2", "name": "terms"}, OK),
    (f"{SP}/consent_document/jsonschema/1-0-0", {"id": "1"}, BAD),
    (f"{SP}/consent_document/jsonschema/1-0-0", {"id": "1", "version": "2", "name": "n" * 61}, BAD),
    (f"{SP}/consent_granted/jsonschema/1-0-0", {"expiry": "2027-01-01T00:00:00Z"}, OK),
    (f"{SP}/consent_granted/jsonschema/1-0-0", {}, OK),
    (f"{SP}/consent_granted/jsonschema/1-0-0", {"expiry": "next year"}, BAD),
    (f"{SP}/consent_withdrawn/jsonschema/1-0-0", {"all": False}, OK),
    (f"{SP}/consent_withdrawn/jsonschema/1-0-0", {}, BAD),
    (f"{SP}/gdpr/jsonschema/1-0-0", {"basisForProcessing": "consent", "documentId": None}, OK),
    (f"{SP}/gdpr/jsonschema/1-0-0", {"basisForProcessing": "whim"}, BAD),
    # site tracking
    (f"{SP}/site_search/jsonschema/1-0-0", {"terms": ["a"], "filters": {"x": True}}, OK),
    (f"{SP}/site_search/jsonschema/1-0-0", {"terms": []}, BAD),
    (f"{SP}/site_search/jsonschema/1-0-0", {"terms": ["a"], "filters": {"x": 1}}, BAD),
    (f"{SP}/social_interaction/jsonschema/1-0-0", {"action": "like", "network": "x"}, OK),
    (f"{SP}/social_interaction/jsonschema/1-0-0", {"action": "like"}, BAD),
    (
        f"{SP}/add_to_cart/jsonschema/1-0-0",
        {"sku": "A1", "quantity": 2, "unitPrice": 9.5, "currency": "EUR", "name": "n"},
        OK,
    ),
    (f"{SP}/add_to_cart/jsonschema/1-0-0", {"sku": "A1"}, BAD),
    (f"{SP}/remove_from_cart/jsonschema/1-0-0", {"sku": "A1", "quantity": 1}, OK),
    (f"{SP}/remove_from_cart/jsonschema/1-0-0", {"sku": "A1", "quantity": "1"}, BAD),
    (f"{SP}/button_click/jsonschema/1-0-0", {"label": "Buy", "id": None, "classes": ["b"]}, OK),
    (f"{SP}/button_click/jsonschema/1-0-0", {"label": ""}, BAD),
    (f"{SP}/button_click/jsonschema/1-0-0", {"id": "b"}, BAD),
    # mobile
    (
        f"{SP}/mobile_context/jsonschema/1-0-3",
        {
            "osType": "android",
            "osVersion": "14",
            "deviceManufacturer": "Google",
            "deviceModel": "Pixel 8",
            "networkType": "wifi",
            "batteryLevel": 80,
            "batteryState": None,
            "physicalMemory": 8_000_000_000,
            "appSetId": UUID,
            "appSetIdScope": "app",
        },
        OK,
    ),
    (
        f"{SP}/mobile_context/jsonschema/1-0-3",
        {
            "osType": "ios",
            "osVersion": "17",
            "deviceManufacturer": "Apple",
            "deviceModel": "x",
            "networkType": "5g",
        },
        BAD,
    ),
    (
        f"{SP}/mobile_context/jsonschema/1-0-3",
        {
            "osType": "ios",
            "osVersion": "17",
            "deviceManufacturer": "Apple",
            "deviceModel": "x",
            "batteryLevel": 101,
        },
        BAD,
    ),
    (f"{SP}/mobile_context/jsonschema/1-0-3", {"osType": "ios", "osVersion": "17"}, BAD),
    (
        f"{MOBILE}/application/jsonschema/1-0-0",
        {"name": "app", "version": "1.0", "build": None},
        OK,
    ),
    (f"{MOBILE}/application/jsonschema/1-0-0", {"name": "app"}, BAD),
    (f"{MOBILE}/screen/jsonschema/1-0-0", {"name": "home", "id": UUID, "activity": "Main"}, OK),
    (f"{MOBILE}/screen/jsonschema/1-0-0", {"name": "home", "id": "home-1"}, BAD),
    (f"{MOBILE}/screen_view/jsonschema/1-0-0", {"name": "home", "id": UUID, "previousId": "p"}, OK),
    (f"{MOBILE}/screen_view/jsonschema/1-0-0", {"name": "home", "id": "x" * 37}, BAD),
    (f"{MOBILE}/screen_view/jsonschema/1-0-0", {"name": "home"}, BAD),
]

VERDICTS += [
    (f"{SP}/screen_view/jsonschema/1-0-0", {"name": "home", "id": "screen-1"}, OK),
    (f"{SP}/screen_view/jsonschema/1-0-0", {}, BAD),
    (f"{SP}/screen_view/jsonschema/1-0-0", {"name": "home", "type": "feed"}, BAD),
    (f"{SP}/application_foreground/jsonschema/1-0-0", {"foregroundIndex": 3}, OK),
    (f"{SP}/application_foreground/jsonschema/1-0-0", {"foregroundIndex": -1}, BAD),
    (f"{SP}/application_background/jsonschema/1-0-0", {}, OK),
    (f"{SP}/application_background/jsonschema/1-0-0", {"backgroundIndex": "1"}, BAD),
    (f"{MOBILE}/application_install/jsonschema/1-0-0", {}, OK),
    (f"{MOBILE}/application_install/jsonschema/1-0-0", {"referrer": "x"}, BAD),
    (f"{MOBILE}/deep_link/jsonschema/1-0-0", {"url": "https://a.example/x"}, OK),
    (f"{MOBILE}/deep_link/jsonschema/1-0-0", {"referrer": "https://a.example/"}, BAD),
    (f"{MOBILE}/deep_link_received/jsonschema/1-0-0", {"url": "app://open/1"}, OK),
    (f"{MOBILE}/deep_link_received/jsonschema/1-0-0", {"url": "not a uri"}, BAD),
    (f"{MOBILE}/application_lifecycle/jsonschema/1-0-0", {"isVisible": False, "index": 2}, OK),
    (f"{MOBILE}/application_lifecycle/jsonschema/1-0-0", {"index": 2}, BAD),
]

VERDICTS += [
    (
        f"{SP}/ad_impression/jsonschema/1-0-0",
        {"impressionId": "i", "costModel": "cpm", "cost": 1},
        OK,
    ),
    (f"{SP}/ad_impression/jsonschema/1-0-0", {"costModel": "cpv"}, BAD),
    (f"{SP}/ad_click/jsonschema/1-0-0", {"targetUrl": "https://a.example/", "cost": 0.5}, OK),
    (f"{SP}/ad_click/jsonschema/1-0-0", {"clickId": "c"}, BAD),
    (f"{SP}/ad_conversion/jsonschema/1-0-0", {"conversionId": "v", "initialValue": 10}, OK),
    (f"{SP}/ad_conversion/jsonschema/1-0-0", {"conversionId": "v", "value": 10}, BAD),
]

EC = "com.snowplowanalytics.snowplow.ecommerce"
MEDIA = "com.snowplowanalytics.snowplow.media"
PRODUCT = {"id": "sku-1", "category": "shoes", "price": 19.99, "currency": "EUR"}
TRANSACTION = {
    "transaction_id": "t-1",
    "revenue": 19.99,
    "currency": "EUR",
    "payment_method": "card",
    "total_quantity": 1,
}
VERDICTS += [
    (f"{EC}/snowplow_ecommerce_action/jsonschema/1-0-2", {"type": "trns_error", "name": None}, OK),
    (f"{EC}/snowplow_ecommerce_action/jsonschema/1-0-2", {"type": "wishlist"}, BAD),
    (f"{EC}/product/jsonschema/1-0-0", {**PRODUCT, "quantity": 2, "brand": None}, OK),
    (f"{EC}/product/jsonschema/1-0-0", {**PRODUCT, "currency": "EURO"}, BAD),
    (f"{EC}/product/jsonschema/1-0-0", {**PRODUCT, "price": 19.999}, BAD),
    (f"{EC}/product/jsonschema/1-0-0", {"id": "sku-1", "price": 1, "currency": "EUR"}, BAD),
    (f"{EC}/cart/jsonschema/1-0-0", {"total_value": 0, "currency": "EUR", "cart_id": None}, OK),
    (f"{EC}/cart/jsonschema/1-0-0", {"total_value": -1, "currency": "EUR"}, BAD),
    (f"{EC}/transaction/jsonschema/1-0-0", {**TRANSACTION, "tax": None, "credit_order": False}, OK),
    (f"{EC}/transaction/jsonschema/1-0-0", {**TRANSACTION, "products": []}, BAD),
    (f"{EC}/transaction/jsonschema/1-0-0", {**TRANSACTION, "total_quantity": 1.5}, BAD),
    (f"{EC}/checkout_step/jsonschema/1-0-0", {"step": 1, "coupon_code": None}, OK),
    (f"{EC}/checkout_step/jsonschema/1-0-0", {"step": 0}, BAD),
    (f"{EC}/checkout_step/jsonschema/1-0-0", {"step": 91}, BAD),
    (f"{EC}/page/jsonschema/1-0-0", {"type": "product", "language": "en"}, OK),
    (f"{EC}/page/jsonschema/1-0-0", {"language": "en"}, BAD),
    (f"{EC}/promotion/jsonschema/1-0-0", {"id": "p", "product_ids": ["a"], "position": 0}, OK),
    (f"{EC}/promotion/jsonschema/1-0-0", {"id": "p", "position": -1}, BAD),
    (
        f"{EC}/refund/jsonschema/1-0-0",
        {"transaction_id": "t", "currency": "EUR", "refund_amount": 5},
        OK,
    ),
    (f"{EC}/refund/jsonschema/1-0-0", {"transaction_id": "t", "currency": "EUR"}, BAD),
    (f"{EC}/transaction_error/jsonschema/1-0-0", {"error_type": None, "error_code": "E1"}, OK),
    (f"{EC}/transaction_error/jsonschema/1-0-0", {"error_type": "medium"}, BAD),
    (f"{EC}/user/jsonschema/1-0-0", {"id": "u", "is_guest": None, "email": "a@example.com"}, OK),
    (f"{EC}/user/jsonschema/1-0-0", {"is_guest": True}, BAD),
    (
        "org.w3/PerformanceNavigationTiming/jsonschema/1-0-0",
        {
            "type": "navigate",
            "redirectCount": 0,
            "fetchStart": 1.5,
            "serverTiming": [{"name": "db", "duration": 2.5}],
        },
        OK,
    ),
    ("org.w3/PerformanceNavigationTiming/jsonschema/1-0-0", {"redirectCount": 65}, BAD),
    (
        "org.w3/PerformanceNavigationTiming/jsonschema/1-0-0",
        {"serverTiming": [{"duration": 1}]},
        BAD,
    ),
    (
        f"{SP}/application_error/jsonschema/1-0-1",
        {"programmingLanguage": "JAVASCRIPT", "message": "boom", "fileName": "app.js"},
        OK,
    ),
    (
        f"{SP}/application_error/jsonschema/1-0-1",
        {"programmingLanguage": "JAVASCRIPT", "message": "boom", "causeStackTrace": "x"},
        BAD,
    ),
    (
        f"{SP}/media_player/jsonschema/2-0-0",
        {"currentTime": 1.5, "ended": False, "paused": True, "mediaType": None, "volume": 80},
        OK,
    ),
    (f"{SP}/media_player/jsonschema/2-0-0", {"currentTime": 1, "ended": False}, BAD),
    (
        f"{SP}/media_player/jsonschema/2-0-0",
        {"currentTime": 1, "ended": False, "paused": False, "playbackRate": 17},
        BAD,
    ),
    (f"{MEDIA}/session/jsonschema/1-0-0", {"mediaSessionId": "s", "startedAt": None, "ads": 0}, OK),
    (f"{MEDIA}/session/jsonschema/1-0-0", {"mediaSessionId": "s", "startedAt": "today"}, BAD),
    (f"{MEDIA}/play_event/jsonschema/1-0-0", {}, OK),
    (f"{MEDIA}/play_event/jsonschema/1-0-0", {"at": 1}, BAD),
    (f"{MEDIA}/ready_event/jsonschema/1-0-0", {}, OK),
    (f"{MEDIA}/ready_event/jsonschema/1-0-0", {"x": 1}, BAD),
    (f"{MEDIA}/pause_event/jsonschema/1-0-0", {}, OK),
    (f"{MEDIA}/pause_event/jsonschema/1-0-0", {"x": 1}, BAD),
    (f"{MEDIA}/end_event/jsonschema/1-0-0", {}, OK),
    (f"{MEDIA}/end_event/jsonschema/1-0-0", {"x": 1}, BAD),
    (f"{MEDIA}/ping_event/jsonschema/1-0-0", {}, OK),
    (f"{MEDIA}/ping_event/jsonschema/1-0-0", {"x": 1}, BAD),
    (f"{MEDIA}/percent_progress_event/jsonschema/1-0-0", {"percentProgress": 50}, OK),
    (f"{MEDIA}/percent_progress_event/jsonschema/1-0-0", {"percentProgress": 101}, BAD),
    (
        f"{MEDIA}/volume_change_event/jsonschema/1-0-0",
        {"newVolume": 40, "previousVolume": None},
        OK,
    ),
    (f"{MEDIA}/volume_change_event/jsonschema/1-0-0", {"previousVolume": 40}, BAD),
]

EE = "com.google.analytics.enhanced-ecommerce"
VERDICTS += [
    (
        "com.google.ga4/cookies/jsonschema/1-0-0",
        {"_ga": "GA1.1.1.1", "session_cookies": [{"measurement_id": "G-1", "session_cookie": "x"}]},
        OK,
    ),
    ("com.google.ga4/cookies/jsonschema/1-0-0", {"session_cookies": [{"measurement": "G-1"}]}, BAD),
    (f"{MOBILE}/screen_end/jsonschema/1-0-0", {}, OK),
    (f"{MOBILE}/screen_end/jsonschema/1-0-0", {"id": "x"}, BAD),
    (f"{MOBILE}/screen_summary/jsonschema/1-0-0", {"foreground_sec": 1.5, "min_y_offset": -3}, OK),
    (f"{MOBILE}/screen_summary/jsonschema/1-0-0", {"background_sec": 1}, BAD),
    (f"{MOBILE}/list_item_view/jsonschema/1-0-0", {"index": 0, "items_count": None}, OK),
    (f"{MOBILE}/list_item_view/jsonschema/1-0-0", {"index": 65536}, BAD),
    (f"{MOBILE}/scroll_changed/jsonschema/1-0-0", {"x_offset": -5, "view_width": 300}, OK),
    (f"{MOBILE}/scroll_changed/jsonschema/1-0-0", {"view_width": -1}, BAD),
    (
        f"{MOBILE}/message_notification/jsonschema/1-0-0",
        {"title": "t", "body": "b", "trigger": "push", "bodyLocArgs": ["a"]},
        OK,
    ),
    (
        f"{MOBILE}/message_notification/jsonschema/1-0-0",
        {"title": "t", "body": "b", "trigger": "sms"},
        BAD,
    ),
    (
        f"{MOBILE}/message_notification/jsonschema/1-0-0",
        {"title": "t", "body": "b", "trigger": "push", "bodyLocArgs": []},
        BAD,
    ),
    (
        f"{SP}/consent_preferences/jsonschema/1-0-0",
        {
            "eventType": "allow_selected",
            "basisForProcessing": "consent",
            "consentUrl": "https://a.example/privacy",
            "consentVersion": "1.0",
            "consentScopes": ["analytics"],
            "domainsApplied": ["a.example"],
            "gdprApplies": True,
        },
        OK,
    ),
    (f"{SP}/consent_preferences/jsonschema/1-0-0", {"eventType": "allow_all"}, BAD),
    (f"{SP}/cmp_visible/jsonschema/1-0-0", {"elapsedTime": 120.5}, OK),
    (f"{SP}/cmp_visible/jsonschema/1-0-0", {"elapsedTime": -1}, BAD),
    (
        f"{SP}/mobile_context/jsonschema/1-0-2",
        {"osType": "ios", "osVersion": "16", "deviceManufacturer": "Apple", "deviceModel": "x"},
        OK,
    ),
    # In 1-0-2, `networkType` may be null by its type but not by its enum.
    (
        f"{SP}/mobile_context/jsonschema/1-0-2",
        {
            "osType": "ios",
            "osVersion": "16",
            "deviceManufacturer": "Apple",
            "deviceModel": "x",
            "networkType": None,
        },
        BAD,
    ),
    (
        f"{SP}/client_session/jsonschema/1-0-1",
        {
            "userId": UUID,
            "sessionId": UUID,
            "sessionIndex": 1,
            "previousSessionId": None,
            "storageMechanism": "COOKIE_1",
        },
        OK,
    ),
    (
        f"{SP}/client_session/jsonschema/1-0-1",
        {"userId": UUID, "sessionId": UUID, "sessionIndex": 1, "storageMechanism": "COOKIE_1"},
        BAD,
    ),
    (f"{SP}/application/jsonschema/1-0-0", {"version": "1.2.3"}, OK),
    (f"{SP}/application/jsonschema/1-0-0", {"build": "7"}, BAD),
    (f"{EE}/action/jsonschema/1-0-0", {"action": "purchase"}, OK),
    (f"{EE}/action/jsonschema/1-0-0", {"action": "buy"}, BAD),
    # Money is a number to the cent and a currency three letters, as the columns igluctl
    # generated from these schemas say (DECIMAL(36,2), CHAR(3)).
    (f"{EE}/actionFieldObject/jsonschema/1-0-0", {"id": "t-1", "revenue": 9.99, "step": 2}, OK),
    (f"{EE}/actionFieldObject/jsonschema/1-0-0", {"id": "t-1", "revenue": "9.99"}, BAD),
    (f"{EE}/actionFieldObject/jsonschema/1-0-0", {"id": "t-1", "currency": "EURO"}, BAD),
    (f"{EE}/productFieldObject/jsonschema/1-0-0", {"id": "p", "price": 9.99, "quantity": 1}, OK),
    (f"{EE}/productFieldObject/jsonschema/1-0-0", {"id": "p", "quantity": "1"}, BAD),
    (f"{EE}/productFieldObject/jsonschema/1-0-0", {"id": "p", "price": 9.999}, BAD),
    (
        f"{EE}/impressionFieldObject/jsonschema/1-0-0",
        {"id": "p", "list": "search", "position": 1},
        OK,
    ),
    (f"{EE}/impressionFieldObject/jsonschema/1-0-0", {"id": "p", "quantity": 1}, BAD),
    (
        f"{EE}/promoFieldObject/jsonschema/1-0-0",
        {"id": "x", "position": "slot1", "currency": "EUR"},
        OK,
    ),
    (f"{EE}/promoFieldObject/jsonschema/1-0-0", {"id": "x", "position": 1}, BAD),
]
for name in (
    "seek_start",
    "seek_end",
    "buffer_start",
    "buffer_end",
    "ad_start",
    "ad_complete",
    "ad_break_start",
    "ad_break_end",
):
    VERDICTS += [
        (f"{MEDIA}/{name}_event/jsonschema/1-0-0", {}, OK),
        (f"{MEDIA}/{name}_event/jsonschema/1-0-0", {"percentProgress": 1}, BAD),
    ]
for name in ("ad_skip", "ad_click", "ad_pause", "ad_resume"):
    VERDICTS += [
        (f"{MEDIA}/{name}_event/jsonschema/1-0-0", {}, OK),
        (f"{MEDIA}/{name}_event/jsonschema/1-0-0", {"percentProgress": 101}, BAD),
    ]
VERDICTS += [
    (f"{MEDIA}/ad_quartile_event/jsonschema/1-0-0", {"percentProgress": 25}, OK),
    (f"{MEDIA}/ad_quartile_event/jsonschema/1-0-0", {}, BAD),
    (
        f"{MEDIA}/playback_rate_change_event/jsonschema/1-0-0",
        {"newRate": 2, "previousRate": None},
        OK,
    ),
    (f"{MEDIA}/playback_rate_change_event/jsonschema/1-0-0", {"newRate": 20}, BAD),
    (
        f"{MEDIA}/quality_change_event/jsonschema/1-0-0",
        {"newQuality": "1080p", "bitrate": 5_000_000},
        OK,
    ),
    (f"{MEDIA}/quality_change_event/jsonschema/1-0-0", {"framesPerSecond": 65536}, BAD),
    (f"{MEDIA}/error_event/jsonschema/1-0-0", {"errorCode": "E1", "errorName": None}, OK),
    (f"{MEDIA}/error_event/jsonschema/1-0-0", {"errorCode": "E" * 257}, BAD),
    (f"{MEDIA}/fullscreen_change_event/jsonschema/1-0-0", {"fullscreen": True}, OK),
    (f"{MEDIA}/fullscreen_change_event/jsonschema/1-0-0", {}, BAD),
    (f"{MEDIA}/picture_in_picture_change_event/jsonschema/1-0-0", {"pictureInPicture": False}, OK),
    (f"{MEDIA}/picture_in_picture_change_event/jsonschema/1-0-0", {"pictureInPicture": "no"}, BAD),
    (f"{MEDIA}/ad/jsonschema/1-0-0", {"adId": "a", "podPosition": 1, "name": None}, OK),
    (f"{MEDIA}/ad/jsonschema/1-0-0", {"adId": "a", "podPosition": 0}, BAD),
    (f"{MEDIA}/ad_break/jsonschema/1-0-0", {"breakId": "b", "startTime": 0, "breakType": None}, OK),
    (f"{MEDIA}/ad_break/jsonschema/1-0-0", {"breakId": "b"}, BAD),
]

# Sunbird/DIGIT telemetry v3, by the Sunbird telemetry SDK's specification (Iglu Central has no
# such schemas): the common envelope, then each type's `edata`.
TELEMETRY = "org.sunbird.telemetry"
ENVELOPE = {
    "ets": 1_795_000_000_000,
    "ver": "3.0",
    "mid": "m-1",
    "actor": {"id": "u-1", "type": "User"},
    "context": {"channel": "c", "env": "home", "pdata": {"id": "portal"}},
}
EDATA: dict[str, dict[str, Any]] = {
    "start": {"type": "app"},
    "end": {"type": "app", "summary": [{"progress": 100}]},
    "impression": {"type": "list", "pageid": "home", "uri": "/home"},
    "interact": {"type": "CLICK", "id": "play"},
    "assess": {"item": {"id": "q1"}, "pass": "Yes", "score": 1, "resvalues": [], "duration": 3},
    "response": {"type": "SELECT", "values": [], "target": {"id": "t", "ver": "1", "type": "Q"}},
    "interrupt": {"type": "background"},
    "feedback": {"rating": 4},
    "share": {"items": [{"id": "c1", "type": "Content"}]},
    "audit": {"props": ["name"]},
    "error": {"err": "E1", "errtype": "SYSTEM", "stacktrace": "x"},
    "heartbeat": {"anything": 1},
    "log": {"type": "api_call", "level": "INFO", "message": "ok"},
    "search": {"query": "maths", "size": 2, "topn": [{}]},
    "metrics": {"count": 3},
    "summary": {
        "type": "session",
        "starttime": 1,
        "endtime": 2,
        "timespent": 1,
        "pageviews": 1,
        "interactions": 0,
    },
    "exdata": {"type": "encrypted", "data": "..."},
}
for name, edata in EDATA.items():
    uri = f"{TELEMETRY}/{name}/jsonschema/1-0-0"
    event = {"eid": name.upper(), **ENVELOPE, "edata": edata}
    VERDICTS += [
        (uri, event, OK),
        (uri, {**event, "eid": "OTHER"}, BAD),
        (uri, {**event, "ver": "2.0"}, BAD),
        (uri, {key: value for key, value in event.items() if key != "actor"}, BAD),
    ]
VERDICTS += [
    (f"{TELEMETRY}/start/jsonschema/1-0-0", {"eid": "START", **ENVELOPE, "edata": {}}, BAD),
    (
        f"{TELEMETRY}/interact/jsonschema/1-0-0",
        {"eid": "INTERACT", **ENVELOPE, "edata": {"type": "CLICK", "id": "x", "colour": "red"}},
        BAD,
    ),
    (
        f"{TELEMETRY}/summary/jsonschema/1-0-0",
        {"eid": "SUMMARY", **ENVELOPE, "edata": {"type": "session", "starttime": 1}},
        BAD,
    ),
]

BUILTINS = BuiltinRepository()
RESOLVER = Resolver([BUILTINS])


@pytest.mark.parametrize(("uri", "instance", "valid"), VERDICTS)
def test_each_builtin_schema_gives_iglu_centrals_verdict(
    uri: str, instance: Any, valid: bool
) -> None:
    issues = RESOLVER.validate({"schema": f"iglu:{uri}", "data": instance})
    assert (issues == []) is valid, issues


def test_every_builtin_schema_is_lint_clean_and_named_by_its_path() -> None:
    keys = BUILTINS.schema_keys()
    assert len(keys) == len(list(Path(BUILTINS.settings.path or ".").glob("*/*/*/*")))
    for key in keys:
        schema = BUILTINS.fetch(key)
        assert schema is not None
        assert errors(lint(schema, key)) == [], key.uri


def test_the_standard_schemas_of_the_trackers_are_built_in() -> None:
    uris = {key.uri for key in BUILTINS.schema_keys()}
    for schema in (
        f"{SP}/payload_data/jsonschema/1-0-4",
        f"{SP}/contexts/jsonschema/1-0-1",
        f"{SP}/unstruct_event/jsonschema/1-0-0",
        f"{SP}/web_page/jsonschema/1-0-0",
        f"{SP}/client_session/jsonschema/1-0-2",
        f"{SP}/browser_context/jsonschema/2-0-0",
        f"{SP}/link_click/jsonschema/1-0-1",
        f"{SP}/mobile_context/jsonschema/1-0-3",
        f"{MOBILE}/screen_view/jsonschema/1-0-0",
    ):
        assert f"iglu:{schema}" in uris


def test_every_verdict_row_names_a_builtin_schema_and_every_schema_has_both_verdicts() -> None:
    keys = {key.uri.removeprefix("iglu:") for key in BUILTINS.schema_keys()}
    tabled = {uri for uri, _, _ in VERDICTS}
    assert tabled <= keys
    for uri in tabled:
        assert {valid for row_uri, _, valid in VERDICTS if row_uri == uri} == {OK, BAD}, uri


# -- resolution order -----------------------------------------------------------------------------

WEB_PAGE = SchemaKey.parse_uri(f"iglu:{SP}/web_page/jsonschema/1-0-0")


class Down:
    """A registry that cannot be reached."""

    settings = RepositorySettings(name="furrow registry", url="http://127.0.0.1:9")

    def __init__(self) -> None:
        self.asked = 0

    def fetch(self, key: SchemaKey, *, fresh: bool = False) -> dict[str, Any] | None:
        self.asked += 1
        raise RepositoryError("connection refused")


def users_copy(tmp_path: Path) -> Path:
    """A directory holding the user's own web_page 1-0-0, which takes any id at all."""
    write_schema(
        tmp_path,
        SP,
        "web_page",
        "1-0-0",
        type="object",
        properties={"id": {"type": "string"}},
    )
    return tmp_path


def test_a_users_copy_ranked_before_the_builtins_wins(tmp_path: Path) -> None:
    mine = RepositorySettings(name="mine", priority=5, path=users_copy(tmp_path))
    resolver = Resolver(resolver_repositories([mine]))
    assert resolver.validate({"schema": WEB_PAGE.uri, "data": {"id": "page-1"}}) == []


def test_a_repository_ranked_after_the_builtins_is_not_needed_for_a_builtin(tmp_path: Path) -> None:
    later = RepositorySettings(name="later", priority=500, path=users_copy(tmp_path))
    resolver = Resolver(resolver_repositories([later]))
    issues = resolver.validate({"schema": WEB_PAGE.uri, "data": {"id": "page-1"}})
    assert [issue.keyword for issue in issues] == ["pattern"]


def test_the_builtins_come_after_the_registry_and_answer_while_it_is_down() -> None:
    registry = Down()
    resolver = Resolver([registry, BuiltinRepository()], attempts=1)
    assert resolver.schema(WEB_PAGE)["self"]["name"] == "web_page"
    assert registry.asked == 1


def test_a_schema_nobody_holds_reports_every_repository_and_the_builtins() -> None:
    resolver = Resolver([Down(), BuiltinRepository()], attempts=1)
    with pytest.raises(ResolutionError) as raised:
        resolver.schema(SchemaKey.parse_uri("iglu:com.acme/nothing/jsonschema/1-0-0"))
    assert [entry["repository"] for entry in raised.value.lookup_history] == [
        "furrow registry",
        BUILTIN_NAME,
    ]


def test_the_enricher_repositories_put_the_builtins_last_by_default(tmp_path: Path) -> None:
    registry = RepositorySettings(name="furrow registry", url="http://127.0.0.1:9")
    extra = RepositorySettings(name="extra", path=tmp_path)
    repositories = resolver_repositories([registry, extra])
    assert [r.settings.name for r in repositories] == ["furrow registry", "extra", BUILTIN_NAME]
    assert isinstance(repositories[1], DirectoryRepository)
