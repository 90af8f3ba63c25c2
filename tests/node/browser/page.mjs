// The page's tracking: the browser tracker with its standard entities and every plugin installed,
// as a site would set it up. Bundled by browser_events.mjs; reads window.FURROW (collector URL,
// marker) and counts in window.FURROW.sent the events the collector accepted.
import {
  newTracker,
  trackPageView,
  enableActivityTracking,
  trackSelfDescribingEvent,
  flushBuffer,
} from "@snowplow/browser-tracker";
import {
  LinkClickTrackingPlugin,
  enableLinkClickTracking,
} from "@snowplow/browser-plugin-link-click-tracking";
import { FormTrackingPlugin, enableFormTracking } from "@snowplow/browser-plugin-form-tracking";
import { ErrorTrackingPlugin, trackError } from "@snowplow/browser-plugin-error-tracking";
import { TimezonePlugin } from "@snowplow/browser-plugin-timezone";
import { GaCookiesPlugin } from "@snowplow/browser-plugin-ga-cookies";
import { ClientHintsPlugin } from "@snowplow/browser-plugin-client-hints";
import { PerformanceTimingPlugin } from "@snowplow/browser-plugin-performance-timing";
import { PerformanceNavigationTimingPlugin } from "@snowplow/browser-plugin-performance-navigation-timing";
import {
  SiteTrackingPlugin,
  trackSiteSearch,
  trackSocialInteraction,
  trackTiming,
} from "@snowplow/browser-plugin-site-tracking";
import {
  ButtonClickTrackingPlugin,
  enableButtonClickTracking,
} from "@snowplow/browser-plugin-button-click-tracking";
import {
  SnowplowEcommercePlugin,
  setPageType,
  setEcommerceUser,
  trackProductView,
  trackAddToCart,
  trackRemoveFromCart,
  trackProductListView,
  trackProductListClick,
  trackPromotionView,
  trackPromotionClick,
  trackCheckoutStep,
  trackTransaction,
  trackRefund,
  trackTransactionError,
} from "@snowplow/browser-plugin-snowplow-ecommerce";
import * as media from "@snowplow/browser-plugin-media";
import {
  EnhancedEcommercePlugin,
  addEnhancedEcommerceActionContext,
  addEnhancedEcommerceImpressionContext,
  addEnhancedEcommerceProductContext,
  addEnhancedEcommercePromoContext,
  trackEnhancedEcommerceAction,
} from "@snowplow/browser-plugin-enhanced-ecommerce";
import {
  ScreenTrackingPlugin,
  trackScreenView,
  trackListItemView,
  trackScrollChanged,
} from "@snowplow/browser-plugin-screen-tracking";

const { collector, marker } = window.FURROW;
// Google Analytics 4 has been on the page before: the GA cookies plugin reports its cookies.
document.cookie = "_ga=GA1.1.1234567890.1700000000; path=/";
document.cookie = "_ga_F00BA5=GS1.1.1700000000.1.0.1700000000.0.0.0; path=/";
window.FURROW.sent = 0;
window.FURROW.failures = [];

newTracker("sp", collector, {
  appId: marker,
  eventMethod: "post",
  bufferSize: 1,
  contexts: { webPage: true, session: true, browser: true },
  plugins: [
    LinkClickTrackingPlugin(),
    FormTrackingPlugin(),
    ErrorTrackingPlugin(),
    TimezonePlugin(),
    GaCookiesPlugin(),
    ClientHintsPlugin(true),
    PerformanceTimingPlugin(),
    PerformanceNavigationTimingPlugin(),
    SiteTrackingPlugin(),
    ButtonClickTrackingPlugin(),
    SnowplowEcommercePlugin(),
    media.SnowplowMediaPlugin(),
    EnhancedEcommercePlugin(),
    ScreenTrackingPlugin({ screenEngagementAutotracking: true }),
  ],
  onRequestSuccess: (batch) => {
    window.FURROW.sent += batch.length;
  },
  onRequestFailure: (failure) => {
    window.FURROW.failures.push(failure.status ?? "network error");
  },
});

enableActivityTracking({ minimumVisitLength: 1, heartbeatDelay: 1 });
enableLinkClickTracking();
enableFormTracking();
enableButtonClickTracking();
trackPageView();

const product = {
  id: "sku-1",
  name: "Trail shoe",
  category: "shoes/trail",
  price: 89.9,
  currency: "EUR",
  quantity: 1,
  brand: "Furrow",
  position: 1,
};

const enhanced = {
  id: "sku-1",
  name: "Trail shoe",
  brand: "Furrow",
  category: "shoes/trail",
  variant: "red",
  price: 89.9,
  currency: "EUR",
};

// The events a shop's own code tracks, after the page's interactions.
window.FURROW.trackTheRest = () => {
  trackSiteSearch({ terms: ["trail", "shoes"], filters: { size: "42" }, totalResults: 3 });
  trackSocialInteraction({ action: "share", network: "mastodon", target: marker });
  trackTiming({ category: "load", variable: "hero", timing: 120, label: marker });
  trackError({ message: "boom", filename: "app.js", lineno: 12, colno: 4, error: new Error("boom") });
  trackSelfDescribingEvent({
    event: {
      schema: "iglu:com.snowplowanalytics.snowplow/consent_withdrawn/jsonschema/1-0-0",
      data: { all: false },
    },
  });
  setPageType({ type: "product", language: "en-GB", locale: "en-GB" });
  setEcommerceUser({ id: "user-1", is_guest: false, email: "a@example.com" });
  trackProductView(product);
  trackAddToCart({ products: [product], total_value: 89.9, currency: "EUR" });
  trackRemoveFromCart({ products: [product], total_value: 0, currency: "EUR" });
  trackProductListView({ products: [product], name: "recommended" });
  trackProductListClick({ product, name: "recommended" });
  trackPromotionView({ id: "promo-1", name: "Winter", slot: "hero", position: 1 });
  trackPromotionClick({ id: "promo-1", name: "Winter" });
  trackCheckoutStep({ step: 1, shipping_postcode: "10115", delivery_method: "standard" });
  const transaction = {
    transaction_id: marker,
    revenue: 89.9,
    currency: "EUR",
    payment_method: "card",
    total_quantity: 1,
    tax: 14.35,
    shipping: 0,
  };
  trackTransaction({ ...transaction, products: [product] });
  trackRefund({ transaction_id: marker, currency: "EUR", refund_amount: 89.9, products: [product] });
  trackTransactionError({ transaction, error_code: "E1", error_description: "declined" });
  addEnhancedEcommerceImpressionContext({ ...enhanced, list: "search", position: 1 });
  addEnhancedEcommerceProductContext({ ...enhanced, quantity: 1, coupon: "WINTER" });
  addEnhancedEcommercePromoContext({ id: "promo-1", name: "Winter", creative: "hero", position: "top" });
  addEnhancedEcommerceActionContext({
    id: marker,
    affiliation: "web shop",
    revenue: 89.9,
    tax: 14.35,
    shipping: 0,
    currency: "EUR",
  });
  trackEnhancedEcommerceAction({ action: "purchase" });
  // Single-page apps and app-like pages track screens; the plugin follows the engagement with them.
  trackScreenView({ name: "checkout", type: "page" });
  trackListItemView({ index: 1, itemsCount: 10 });
  trackScrollChanged({ yOffset: 200, viewHeight: 800, contentHeight: 3000 });
  trackScreenView({ name: "thanks", type: "page" });
  const id = `media-${marker}`;
  media.startMediaTracking({ id, player: { duration: 30, label: "Intro", mediaType: "video" } });
  media.trackMediaReady({ id });
  media.trackMediaPlay({ id, player: { currentTime: 0 } });
  media.trackMediaVolumeChange({ id, previousVolume: 80, newVolume: 40 });
  media.trackMediaPlaybackRateChange({ id, previousRate: 1, newRate: 1.5 });
  media.trackMediaQualityChange({ id, previousQuality: "720p", newQuality: "1080p", automatic: true });
  media.trackMediaFullscreenChange({ id, fullscreen: true });
  media.trackMediaPictureInPictureChange({ id, pictureInPicture: false });
  media.trackMediaSeekStart({ id, player: { currentTime: 5 } });
  media.trackMediaSeekEnd({ id, player: { currentTime: 12 } });
  media.trackMediaBufferStart({ id });
  media.trackMediaBufferEnd({ id });
  media.trackMediaAdBreakStart({ id, adBreak: { breakId: "mid-1", name: "mid-roll", breakType: "linear" } });
  media.trackMediaAdStart({ id, ad: { adId: "ad-1", name: "Shoes", duration: 15, skippable: true } });
  media.trackMediaAdFirstQuartile({ id });
  media.trackMediaAdMidpoint({ id });
  media.trackMediaAdClick({ id, percentProgress: 50 });
  media.trackMediaAdPause({ id, percentProgress: 55 });
  media.trackMediaAdResume({ id, percentProgress: 55 });
  media.trackMediaAdThirdQuartile({ id });
  media.trackMediaAdSkip({ id, percentProgress: 80 });
  media.trackMediaAdStart({ id, ad: { adId: "ad-2", podPosition: 2 } });
  media.trackMediaAdComplete({ id });
  media.trackMediaAdBreakEnd({ id });
  media.trackMediaError({ id, errorCode: "E4", errorName: "network", errorDescription: "dropped" });
  media.trackMediaPause({ id, player: { currentTime: 10 } });
  media.trackMediaEnd({ id, player: { currentTime: 30, ended: true } });
  media.endMediaTracking({ id });
  flushBuffer();
};
