"""The H5 storefront: server-rendered pages over the domain services and selectors."""
