"""moto's server (the usual stand-in for AWS APIs) with IAM enforced as Route 53 enforces it,
run as ``python -m tests.integration.dns_as_code.moto_server -H 127.0.0.1 -p PORT``.

With IAM enforced (``/moto-api/reset-auth 0``), moto 5.2 disagrees with AWS in three places
that octodns-route53 reaches; all are corrected here, in the stand-in and only there:

1. **Signatures of GET requests.** moto checks a SigV4 signature against the request's
   parsed parameters when the body is empty, and for a GET without a query string those
   are the request's *headers* (``BaseResponse.setup_class`` falls back to them). The
   signature it computes is then over a body nobody sent, so every ``ListHostedZones``,
   ``ListResourceRecordSets`` and ``ListHealthChecks`` with valid keys is refused with
   ``SignatureDoesNotMatch``. AWS signs the bytes that were sent; so does the check here.
2. **The shape of an authentication error.** moto writes the Query protocol's
   ``<ErrorResponse><Errors><Error>``; Route 53 speaks REST-XML, whose errors are
   ``<ErrorResponse><Error>``, so botocore read the code and message as empty. Route 53
   errors are written in its own shape here, so a refused key reads as AWS would say it.

3. **Paging of health checks.** moto's ``ListHealthChecks`` answer leaves out
   ``IsTruncated`` and ``MaxItems``, which AWS always sends (the API model marks them
   required); octodns-route53 pages on ``IsTruncated`` and fails with ``KeyError`` before
   every change to an A, AAAA or CNAME record (it looks for health checks to clean up).
   Here the answer says what moto's unpaged list is: complete.

Nothing else of moto changes: Route 53's API, IAM's users, keys and policy evaluation are
moto's own.
"""

from __future__ import annotations

import sys

from botocore.awsrequest import AWSRequest
from moto.core import exceptions
from moto.core.responses import ActionResult
from moto.iam import access_control
from moto.route53.responses import Route53
from moto.server import main
from xmltodict import unparse


def _signed_request(self: access_control.IAMRequestBase) -> AWSRequest:
    signed = self._get_string_between("SignedHeaders=", ",", self._headers["Authorization"])
    names = signed.split(";")
    headers = {k: v for k, v in self._headers.items() if k.lower() in names}
    request = AWSRequest(method=self._method, url=self._path, data=self._body, headers=headers)
    request.context["timestamp"] = headers["X-Amz-Date"]
    return request


def _route53_shaped(error: type[exceptions._RESTError]) -> None:
    query_init = error.__init__

    def init(self: exceptions._RESTError, *args: object, **kwargs: object) -> None:
        query_init(self, *args, **kwargs)
        if _service_of_current_request() == "route53":
            body = {"Type": "Sender", "Code": self.error_type, "Message": self.message}
            self.description = unparse({"ErrorResponse": {"Error": body}}, full_document=True)

    error.__init__ = init  # type: ignore[method-assign]


def _service_of_current_request() -> str:
    from flask import has_request_context, request

    if not has_request_context():
        return ""
    credential = request.headers.get("Authorization", "").partition("Credential=")[2]
    parts = credential.partition(",")[0].split("/")
    return parts[3] if len(parts) > 3 else ""


def _list_health_checks(self: Route53) -> ActionResult:
    checks = self.backend.list_health_checks()
    return ActionResult({"HealthChecks": checks, "IsTruncated": False, "MaxItems": "100"})


Route53.list_health_checks = _list_health_checks  # type: ignore[method-assign]
access_control.IAMRequestBase._create_aws_request = _signed_request  # type: ignore[method-assign]
for _error in (
    exceptions.SignatureDoesNotMatchError,
    exceptions.InvalidClientTokenIdError,
    exceptions.AccessDeniedError,
):
    _route53_shaped(_error)

if __name__ == "__main__":
    main(sys.argv[1:])
