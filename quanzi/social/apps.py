from django.apps import AppConfig


class SocialConfig(AppConfig):
    name = "quanzi.social"
    label = "social"

    def ready(self) -> None:
        from quanzi.accounts.services import on_registered_from_share
        from quanzi.social.services import share_register_attribute

        if share_register_attribute not in on_registered_from_share:
            on_registered_from_share.append(share_register_attribute)
