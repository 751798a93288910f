from django.apps import AppConfig


class ContentConfig(AppConfig):
    name = "quanzi.content"
    label = "content"
    verbose_name = "Content commerce"

    def ready(self) -> None:
        from quanzi.catalog.extensions import register_product_extra
        from quanzi.content import checks  # noqa: F401 - registers the invariants
        from quanzi.content.attribution import (
            CLAWBACK_KIND,
            ContentObserver,
            settled_net_by_creator,
        )
        from quanzi.content.moderation import word_list_checker
        from quanzi.content.reviews import rating_of
        from quanzi.core.moderation import register_text_checker
        from quanzi.distribution.books import earnings_source_register
        from quanzi.orders.channels import register_observer
        from quanzi.social.targets import register_share_target

        register_observer(ContentObserver())
        register_text_checker(word_list_checker)
        earnings_source_register(
            "creator", settled_net=settled_net_by_creator, debit_kinds=(CLAWBACK_KIND,)
        )

        def note_shareable(note_id: int) -> bool:
            from quanzi.content.selectors import notes_public

            return notes_public().filter(pk=note_id).exists()

        register_share_target("note", note_shareable)
        register_product_extra(lambda product, user: {"rating": rating_of(product.pk)})

        from quanzi.catalog.extensions import register_product_section
        from quanzi.content.views import product_section

        register_product_section(product_section)

        from quanzi.content.demo import demo_step
        from quanzi.core.demo import register_demo_step

        register_demo_step(demo_step)
