"""SMS providers behind one small interface.

``provider.send(phone=, template_code=, params=)`` sends one templated message to one
mainland mobile number and answers the provider's message id, or raises:

* ``SmsRejected`` — the provider refused this message for good (template or signature not
  approved, bad number, number blacklisted, account out of credit): never retried;
* ``SmsThrottled`` — a rate limit (per number, per day, per account): retried later;
* ``SmsUnreachable`` — no answer: retried later, unless ``lost`` (the request may have
  reached the provider and been delivered, so a retry could send it twice).

Two providers: ``tencent`` (Tencent Cloud SMS through its official SDK) and ``console``
(writes the message to the log; the demo and the embedded mode).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from quanzi.core.logging import get_logger

log = get_logger("quanzi.sms")


class SmsError(Exception):
    def __init__(self, code: str, message: str = "") -> None:
        super().__init__(f"{code}: {message}" if message else code)
        self.code = code
        self.message = message


class SmsRejected(SmsError):
    """Refused for good: sending it again would be refused again."""


class SmsThrottled(SmsError):
    """A rate limit of the provider: worth another try later."""


class SmsUnreachable(SmsError):
    """No answer. ``lost``: the request went out and its answer was lost."""

    def __init__(self, code: str, message: str = "", *, lost: bool = False) -> None:
        super().__init__(code, message)
        self.lost = lost


class SmsProvider(Protocol):
    name: str

    def send(self, *, phone: str, template_code: str, params: list[str]) -> str: ...


class ConsoleProvider:
    """Writes each message to the log and answers a made-up id (demo, embedded mode)."""

    name = "console"

    def __init__(self) -> None:
        self._count = 0

    def send(self, *, phone: str, template_code: str, params: list[str]) -> str:
        self._count += 1
        message_id = f"console-{template_code}-{self._count}"
        log.info(
            "sms (console)",
            extra={"phone": phone, "template": template_code, "params": params, "id": message_id},
        )
        return message_id


# Tencent Cloud's answers (the code of the request, or of the number in SendStatusSet).
TENCENT_THROTTLED_PREFIXES = ("LimitExceeded.", "RequestLimitExceeded")
TENCENT_PASSING = {
    "InternalError.Timeout",
    "InternalError.RequestTimeException",
    "InternalError.SendAndRecvFail",
    "InternalError.OtherError",
    "InternalError",
    "FailedOperation.JsonParseFail",
}


@dataclass(frozen=True)
class TencentConfig:
    secret_id: str
    secret_key: str
    sdk_app_id: str
    sign_name: str
    region: str = "ap-guangzhou"
    endpoint: str = ""  # "http://127.0.0.1:8123" or "sms.tencentcloudapi.com"
    timeout: int = 10


class TencentProvider:
    """Tencent Cloud SMS (短信, API 2021-01-11 ``SendSms``) through
    ``tencentcloud-sdk-python-sms``; the SDK signs each request (TC3-HMAC-SHA256)."""

    name = "tencent"

    def __init__(self, config: TencentConfig) -> None:
        from tencentcloud.common import credential
        from tencentcloud.common.profile.client_profile import ClientProfile
        from tencentcloud.common.profile.http_profile import HttpProfile
        from tencentcloud.sms.v20210111 import sms_client

        self.config = config
        http = HttpProfile(reqTimeout=config.timeout)
        if config.endpoint:
            scheme, _, host = config.endpoint.rpartition("://")
            http.endpoint = host.rstrip("/")
            if scheme:
                http.protocol = http.scheme = scheme
        self.client = sms_client.SmsClient(
            credential.Credential(config.secret_id, config.secret_key),
            config.region,
            ClientProfile(httpProfile=http),
        )

    def send(self, *, phone: str, template_code: str, params: list[str]) -> str:
        from tencentcloud.common.exception.tencent_cloud_sdk_exception import (
            TencentCloudSDKException,
        )
        from tencentcloud.sms.v20210111 import models

        request = models.SendSmsRequest()
        request.PhoneNumberSet = [phone if phone.startswith("+") else f"+86{phone}"]
        request.SmsSdkAppId = self.config.sdk_app_id
        request.SignName = self.config.sign_name
        request.TemplateId = template_code
        request.TemplateParamSet = list(params)
        try:
            answer = self.client.SendSms(request)
        except TencentCloudSDKException as exc:
            raise _tencent_error(exc.code or "", exc.message or "") from exc
        statuses = answer.SendStatusSet or []
        if not statuses:
            raise SmsUnreachable("EmptyAnswer", "no send status in the answer", lost=True)
        status = statuses[0]
        if status.Code != "Ok":
            raise _tencent_error(status.Code or "", status.Message or "")
        return status.SerialNo or answer.RequestId or ""


def _tencent_error(code: str, message: str) -> SmsError:
    if code == "ClientNetworkError":
        # The SDK wraps requests' errors: a read timeout means the request went out.
        lost = "read timed out" in message.lower() or "readtimeout" in message.lower()
        return SmsUnreachable(code, message[:200], lost=lost)
    if code == "ServerNetworkError":
        return SmsUnreachable(code, message[:200])
    if code.startswith(TENCENT_THROTTLED_PREFIXES):
        return SmsThrottled(code, message[:200])
    if code in TENCENT_PASSING:
        return SmsUnreachable(code, message[:200])
    return SmsRejected(code, message[:200])
