"""Registration, login, tokens, roles, addresses."""

from quanzi.accounts.models import AuthToken, User


def test_register_login_me_logout(anon):
    response = anon.post(
        "/auth/register", {"phone": "13912345678", "password": "secret123", "nickname": "阿强"}
    )
    assert response.status_code == 201
    token = response.json()["token"]
    assert not AuthToken.objects.filter(key_hash=token).exists()  # stored hashed only
    login = anon.post("/auth/login", {"phone": "13912345678", "password": "secret123"})
    assert login.status_code == 200
    anon.token = login.json()["token"]
    me = anon.get("/me").json()
    assert me["phone"] == "13912345678" and me["nickname"] == "阿强"
    assert me["roles"] == ["customer"] and len(me["invite_code"]) == 8 and me["referrer_id"] is None
    assert anon.post("/auth/logout").status_code == 204
    assert anon.get("/me").status_code == 401
    anon.token = token  # the other token still works: revocation is per token
    assert anon.get("/me").status_code == 200


def test_register_refuses_bad_input_clearly(anon):
    cases = [
        ({"phone": "12345", "password": "secret123"}, 422, "invalid_phone"),
        ({"phone": "13912345678", "password": "123"}, 422, "weak_password"),
        (
            {"phone": "13912345678", "password": "secret123", "invite_code": "NOSUCH"},
            422,
            "invalid_invite_code",
        ),
        ({"password": "secret123"}, 422, "validation_error"),
    ]
    for body, status, code in cases:
        response = anon.post("/auth/register", body)
        assert response.status_code == status, body
        assert response.json()["code"] == code
    assert not User.objects.exists()
    anon.post("/auth/register", {"phone": "13912345678", "password": "secret123"})
    taken = anon.post("/auth/register", {"phone": "13912345678", "password": "secret123"})
    assert taken.status_code == 409 and taken.json()["code"] == "phone_taken"


def test_wrong_password_is_401_without_saying_which_part(anon, customer):
    response = anon.post("/auth/login", {"phone": customer.phone, "password": "wrong-one"})
    assert response.status_code == 401 and response.json()["code"] == "invalid_credentials"
    unknown = anon.post("/auth/login", {"phone": "13999999999", "password": "wrong-one"})
    assert unknown.json()["code"] == "invalid_credentials"


def test_invite_code_binds_the_referrer(anon, customer):
    response = anon.post(
        "/auth/register",
        {
            "phone": "13912345678",
            "password": "secret123",
            "invite_code": customer.invite_code.lower(),
        },
    )
    anon.token = response.json()["token"]
    assert anon.get("/me").json()["referrer_id"] == customer.pk


def test_no_token_is_401_and_bad_token_is_401(anon):
    assert anon.get("/me").status_code == 401
    anon.token = "not-a-token"
    response = anon.get("/me")
    assert response.status_code == 401 and response.json()["code"] == "unauthorized"


def test_addresses_belong_to_their_owner(customer, make_user):
    body = {
        "name": "张三",
        "phone": "13900000000",
        "province": "浙江省",
        "city": "杭州市",
        "district": "西湖区",
        "detail": "文三路 1 号",
    }
    created = customer.api.post("/me/addresses", body)
    assert created.status_code == 201 and created.json()["is_default"] is True
    address_id = created.json()["id"]
    other = make_user()
    assert other.api.get("/me/addresses").json() == []
    assert other.api.put(f"/me/addresses/{address_id}", body).status_code == 404
    assert other.api.delete(f"/me/addresses/{address_id}").status_code == 404
    assert (
        customer.api.put(f"/me/addresses/{address_id}", {**body, "detail": "文二路 2 号"}).json()[
            "detail"
        ]
        == "文二路 2 号"
    )
    bad = customer.api.post("/me/addresses", {**body, "phone": "123"})
    assert bad.status_code == 422
    assert customer.api.delete(f"/me/addresses/{address_id}").status_code == 204
    assert customer.api.get("/me/addresses").json() == []


def test_user_create_command(capsys, db):
    from quanzi.cli import main

    assert (
        main(
            [
                "user",
                "create",
                "--phone",
                "13811112222",
                "--password",
                "secret123",
                "--role",
                "operator",
            ]
        )
        == 0
    )
    assert "roles=customer,operator" in capsys.readouterr().out
    assert User.objects.get(phone="13811112222").is_operator
    assert main(["user", "create", "--phone", "13811112222", "--password", "secret123"]) == 2
