// Swagger UI for /docs, from files served by vidgen itself (no CDN). The header marks the
// requests "Try it out" sends as coming from this server's own pages (see vidgen.web.security).
window.ui = SwaggerUIBundle({
  url: "/openapi.json",
  dom_id: "#swagger-ui",
  deepLinking: true,
  validatorUrl: null,
  presets: [SwaggerUIBundle.presets.apis],
  layout: "BaseLayout",
  requestInterceptor: (request) => {
    request.headers["X-Vidgen-CSRF"] = "1";
    return request;
  },
});
