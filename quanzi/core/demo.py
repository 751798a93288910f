"""Demo data for ``quanzi demo``: a small shop with real-looking products and people.

Images ship with the package (``quanzi/core/static/demo/``). Loading is idempotent:
it does nothing when the demo operator already exists. Feature apps add their demo
campaigns through ``register_demo_step``.
"""

from __future__ import annotations

from collections.abc import Callable

from django.db import transaction

DEMO_OPERATOR = ("13800000000", "quanzi-demo")
DEMO_CUSTOMER = ("13800000001", "quanzi-demo")

CATEGORIES = ["生鲜水果", "粮油米面", "母婴用品", "美妆个护", "家居日用", "零食饮料"]

# (image, title, category, description, [(sku name, price, supply, member price, stock)])
PRODUCTS = [
    (
        "apple",
        "阿克苏冰糖心苹果",
        "生鲜水果",
        "新疆阿克苏产区直发，果心透明糖心，脆甜多汁。坏果包赔。",
        [("5斤装 中果", 3990, 2400, 3590, 500), ("10斤装 大果", 6990, 4300, 6490, 300)],
    ),
    (
        "orange",
        "赣南脐橙 现摘现发",
        "生鲜水果",
        "江西赣州果园现摘，果肉细嫩化渣，酸甜适中。",
        [("5斤装", 2990, 1700, 2690, 800), ("10斤装", 4990, 3000, 4590, 400)],
    ),
    (
        "rice",
        "五常稻花香大米 当季新米",
        "粮油米面",
        "黑龙江五常核心产区，稻花香2号，米粒饱满，蒸煮清香。",
        [("5kg", 8900, 6200, 7990, 600)],
    ),
    (
        "oil",
        "古法压榨花生油 一级",
        "粮油米面",
        "山东大花生物理压榨，浓香纯正，家庭炒菜必备。",
        [("5L", 9990, 7200, 8990, 300)],
    ),
    (
        "noodle",
        "手工空心挂面",
        "粮油米面",
        "传统工艺晾晒，耐煮不糊，爽滑筋道。",
        [("2kg 家庭装", 2590, 1400, None, 1000)],
    ),
    (
        "diaper",
        "婴儿纸尿裤 超薄透气",
        "母婴用品",
        "瞬吸干爽，3D 立体防漏，柔软亲肤。",
        [("M码 72片", 8900, 5900, 7900, 400), ("L码 60片", 8900, 5900, 7900, 400)],
    ),
    (
        "milk",
        "A2 婴幼儿配方奶粉 3段",
        "母婴用品",
        "A2 型蛋白，易吸收，原装进口。",
        [("800g", 26800, 19800, 24800, 200)],
    ),
    (
        "mask",
        "玻尿酸补水面膜",
        "美妆个护",
        "深层补水，提亮肤色，敏感肌可用。",
        [("10片/盒", 6900, 2900, 5900, 700)],
    ),
    (
        "lipstick",
        "丝绒哑光口红",
        "美妆个护",
        "显色持久，不拔干，黄皮友好。",
        [("经典正红", 12900, 5500, 10900, 300), ("枫叶棕", 12900, 5500, 10900, 300)],
    ),
    (
        "towel",
        "新疆长绒棉毛巾",
        "家居日用",
        "A 类标准，婴儿可用，柔软吸水不掉毛。",
        [("3条装", 3990, 2100, 3490, 900)],
    ),
    (
        "tissue",
        "原木抽纸 整箱",
        "家居日用",
        "100% 原生木浆，柔韧亲肤，无荧光剂。",
        [("24包", 4590, 3100, 3990, 1000)],
    ),
    (
        "nuts",
        "每日坚果 混合装",
        "零食饮料",
        "6 种坚果果干科学配比，独立小包装。",
        [("30袋", 9900, 5800, 8900, 500)],
    ),
    (
        "tea",
        "武夷山大红袍 礼盒装",
        "零食饮料",
        "岩骨花香，传统炭焙，送礼自饮两相宜。",
        [("250g", 19800, 9800, 16800, 200)],
    ),
    (
        "honey",
        "秦岭土蜂蜜",
        "零食饮料",
        "秦岭深山中华蜂，一年一取，自然成熟。",
        [("500g", 6800, 3800, 5800, 400)],
    ),
]

DemoStep = Callable[[dict], None]
_steps: list[DemoStep] = []


def register_demo_step(step: DemoStep) -> None:
    """Feature apps add demo campaigns; ``step(ctx)`` gets the operator, users and products."""
    if step not in _steps:
        _steps.append(step)


@transaction.atomic
def demo_load() -> bool:
    from quanzi.accounts.models import User
    from quanzi.accounts.services import address_create, user_create
    from quanzi.catalog.services import category_create, product_create, supplier_create

    if User.objects.filter(phone=DEMO_OPERATOR[0]).exists():
        return False
    operator = user_create(
        phone=DEMO_OPERATOR[0], password=DEMO_OPERATOR[1], nickname="运营小圈", roles=("operator",)
    )
    customer = user_create(phone=DEMO_CUSTOMER[0], password=DEMO_CUSTOMER[1], nickname="小红")
    address_create(
        user=customer,
        data={
            "name": "李小红",
            "phone": DEMO_CUSTOMER[0],
            "province": "浙江省",
            "city": "杭州市",
            "district": "西湖区",
            "detail": "文三路 90 号 3 幢 501",
        },
    )
    suppliers = {
        "生鲜": supplier_create(name="鲜果直采基地", contact="王经理 13700000001"),
        "粮油": supplier_create(name="北方粮油供应链", contact="赵经理 13700000002"),
        "日用": supplier_create(name="优选日用品仓", contact="钱经理 13700000003"),
    }
    for sort, name in enumerate(CATEGORIES):
        category_create(name=name, sort=sort)
    products = []
    for image, title, category, description, skus in PRODUCTS:
        supplier = suppliers[
            "生鲜" if category == "生鲜水果" else "粮油" if category == "粮油米面" else "日用"
        ]
        products.append(
            product_create(
                title=title,
                description=description,
                category=category,
                supplier_id=supplier.pk,
                images=[f"/static/demo/{image}.jpg"],
                skus=[
                    {"name": n, "price": p, "supply_price": s, "member_price": m, "stock": st}
                    for n, p, s, m, st in skus
                ],
            )
        )
    ctx = {"operator": operator, "customer": customer, "products": products, "suppliers": suppliers}
    for step in _steps:
        step(ctx)
    return True
