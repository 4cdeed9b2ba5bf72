// The API documentation (/api/docs): Swagger UI from the swagger-ui-bundle-v2 package, served by
// the app itself (no CDN) and started from this file rather than an inline script, so that it
// works offline under the app's Content-Security-Policy.
"use strict";
window.addEventListener("DOMContentLoaded", function () {
  window.ui = SwaggerUIBundle({
    url: "/openapi.json",
    dom_id: "#swagger-ui",
    deepLinking: true,
    presets: [SwaggerUIBundle.presets.apis],
    layout: "BaseLayout",
    validatorUrl: null, // no badge fetched from an outside validator
  });
});
