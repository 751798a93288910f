"""Demo notes for ``quanzi demo``: a few approved creators post notes about the demo
products, with the products' own pictures, so the 种草 feed is alive."""

from __future__ import annotations

from pathlib import Path

from django.core.files import File

DEMO_DIR = Path(__file__).resolve().parents[1] / "core" / "static" / "demo"

CREATORS = [
    ("13800000011", "美妆小鹿", "敏感肌护肤 · 平价好物"),
    ("13800000012", "吃货阿杰", "全国各地好吃的都在这"),
    ("13800000013", "宝妈日记", "两个娃的妈，只推荐自己用过的"),
]

# (creator index, title, body, topics, [(product image name, product title)])
NOTES = [
    (
        0,
        "换季补水就靠它！",
        "最近天气干，每天一片，第二天上妆超服帖。敏感肌用了也不刺痛～",
        ["护肤", "补水"],
        ["mask"],
    ),
    (
        0,
        "黄皮也能涂的正红色",
        "显白不挑人，薄涂日常，厚涂气场全开。",
        ["口红", "美妆"],
        ["lipstick"],
    ),
    (
        1,
        "冰糖心苹果开箱",
        "切开就是透明的糖心，脆甜多汁，孩子一次吃两个。",
        ["水果", "开箱"],
        ["apple"],
    ),
    (1, "办公室囤货清单", "坚果 + 蜂蜜水，下午不犯困。", ["零食", "打工人"], ["nuts", "honey"]),
    (
        2,
        "新手妈妈纸尿裤测评",
        "试了五个牌子，这款最透气，夜里不红屁屁。",
        ["母婴", "测评"],
        ["diaper"],
    ),
    (2, "宝宝毛巾终于选对了", "长绒棉真的软，洗了十几次也不掉毛。", ["母婴", "家居"], ["towel"]),
]


def demo_step(ctx: dict) -> None:
    from quanzi.accounts.services import user_create
    from quanzi.content import services
    from quanzi.content.media import media_upload

    by_image = {}
    for product in ctx["products"]:
        cover = product.images.order_by("sort", "id").first()
        if cover is not None:
            by_image[Path(cover.url).stem] = product
    creators = []
    for phone, nickname, intro in CREATORS:
        user = user_create(phone=phone, password="quanzi-demo", nickname=nickname)
        services.creator_apply(user=user, intro=intro)
        services.creator_decide(user_id=user.pk, operator=ctx["operator"], approve=True)
        creators.append(user)
    for index, title, body, topics, images in NOTES:
        author = creators[index]
        media_ids = []
        for name in images:
            path = DEMO_DIR / f"{name}.jpg"
            if path.exists():
                with path.open("rb") as handle:
                    media_ids.append(
                        media_upload(owner=author, upload=File(handle, name=path.name)).pk
                    )
        if not media_ids:
            continue
        services.note_create(
            author=author,
            title=title,
            body=body,
            topics=topics,
            media_ids=media_ids,
            product_ids=[by_image[n].pk for n in images if n in by_image],
        )
    customer = ctx.get("customer")
    if customer is not None:
        for creator in creators[:2]:
            services.follow(follower=customer, followee_id=creator.pk)
