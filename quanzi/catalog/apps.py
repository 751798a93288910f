from django.apps import AppConfig


class CatalogConfig(AppConfig):
    name = "quanzi.catalog"
    label = "catalog"
    verbose_name = "Catalog"
