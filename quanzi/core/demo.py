"""Demo data for ``quanzi demo`` (filled in below)."""

DEMO_OPERATOR = ("13800000000", "quanzi-demo")


def demo_load() -> bool:
    from quanzi.accounts.models import User
    from quanzi.accounts.services import user_create

    if User.objects.filter(phone=DEMO_OPERATOR[0]).exists():
        return False
    user_create(
        phone=DEMO_OPERATOR[0], password=DEMO_OPERATOR[1], nickname="运营小圈", roles=("operator",)
    )
    return True
