"""The API's OpenAPI document, made to tell the truth about every operation.

Two things django-ninja does not do on its own:

* **Unique schema names.** django-ninja names a component by its class name, so two
  apps' ``CampaignIn`` classes would share one entry and one endpoint would document the
  other's body. Here a class name used by more than one Quanzi schema is prefixed with its
  app (``BargainCampaignIn``, ``GroupbuyCampaignIn``); a unique name stays as it is.
* **Every answer documented.** Besides the answers an endpoint declares, the request path
  itself can answer any operation with an error (always the ``ErrorOut`` shape):

  ====  ==================================================================================
  400   a body that is not JSON (operations with a body)
  401   not logged in (operations that need a user)
  403   a logged-in session without its CSRF token (unsafe methods that need a user)
  404   the object in the path does not exist (operations with path parameters)
  409   a write that conflicts with stored data (unsafe methods)
  413   a body above the upload limit (unsafe methods)
  422   a NUL character, a body that is not an object, a value out of range (all)
  ====  ==================================================================================

  and ``414`` (``uri_too_long``) on operations with query parameters, whose request line
  can exceed the 8190 bytes ``quanzi.wsgi`` serves.
  429 stays per endpoint: only the rate-limited ones declare it.
* **Links** from what a create answers to the operations on what it created: a ``201``
  of ``POST /x`` whose body has ``id`` (or ``<name>_id``) links to every operation on
  ``/x/{<name>_id}`` and ``/x/{<name>_id}/action``, so a client generator, and the fuzzer's stateful phase, can follow
  create → read → update.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from ninja.openapi.schema import REF_TEMPLATE, OpenAPISchema, flatten_properties
from ninja.schema import NinjaGenerateJsonSchema
from pydantic import BaseModel
from pydantic.json_schema import DefsRef

ERROR_REF = {"$ref": REF_TEMPLATE.format(model="ErrorOut")}
UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}
DEFAULT_ERRORS = {
    400: "Bad Request: the body is not JSON",
    401: "Unauthorized: log in first",
    403: "Forbidden",
    404: "Not Found",
    409: "Conflict",
    413: "Payload Too Large",
    414: "URI Too Long: a request line over 8190 bytes",
    422: "Unprocessable Entity: the request is not valid",
}


def _walk(cls: type) -> list[type]:
    found = []
    for sub in cls.__subclasses__():
        found.append(sub)
        found.extend(_walk(sub))
    return found


def ambiguous_names() -> set[str]:
    """Class names shared by more than one Quanzi schema."""
    owners: dict[str, set[str]] = defaultdict(set)
    for cls in _walk(BaseModel):
        if cls.__module__.startswith("quanzi."):
            owners[cls.__qualname__].add(cls.__module__)
    return {name for name, modules in owners.items() if len(modules) > 1}


def qualified_name(module: str, qualname: str) -> str:
    """``quanzi.bargain.api`` + ``CampaignIn`` -> ``BargainCampaignIn``."""
    parts = module.split(".")
    app = parts[1] if len(parts) > 1 else parts[0]
    return app.title().replace("_", "") + qualname.replace(".", "")


class QuanziJsonSchema(NinjaGenerateJsonSchema):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._ambiguous = ambiguous_names()

    def get_defs_ref(self, core_mode_ref):
        defs_ref = super().get_defs_ref(core_mode_ref)
        core_ref = core_mode_ref[0]
        if "[" not in core_ref:  # a plain class, not a generic's parametrisation
            module, _, qualname = core_ref.rsplit(":", 1)[0].rpartition(".")
            if module.startswith("quanzi.") and qualname in self._ambiguous:
                self._prioritized_defsref_choices[defs_ref][0] = DefsRef(
                    qualified_name(module, qualname)
                )
        return defs_ref


class QuanziOpenAPISchema(OpenAPISchema):
    # The two methods below are django-ninja's, with Quanzi's schema generator.

    def _extract_parameters(self, model) -> list[dict[str, Any]]:
        result = []
        schema = model.model_json_schema(
            ref_template=REF_TEMPLATE, schema_generator=QuanziJsonSchema
        )
        required = set(schema.get("required", []))
        if "$defs" in schema:
            self.add_schema_definitions(schema["$defs"])
        for name, details in schema["properties"].items():
            for p_name, p_schema, p_required in flatten_properties(
                name, details, name in required, schema.get("$defs", {})
            ):
                if not p_schema.get("include_in_schema", True):
                    continue
                param = {
                    "in": model.__ninja_param_source__,
                    "name": p_name,
                    "schema": p_schema,
                    "required": p_required,
                }
                for key in ("description", "examples", "example", "deprecated"):
                    if key in p_schema:
                        param[key] = p_schema[key]
                        if key == "examples":
                            break
                result.append(param)
        return result

    def _create_schema_from_model(
        self, model, by_alias: bool = True, remove_level: bool = True, mode="validation"
    ):
        if hasattr(model, "__ninja_flatten_map__"):
            schema = self._flatten_schema(model)
        else:
            schema = model.model_json_schema(
                ref_template=REF_TEMPLATE,
                by_alias=by_alias,
                schema_generator=QuanziJsonSchema,
                mode=mode,
            ).copy()
        if schema.get("$defs"):
            self.add_schema_definitions(schema.pop("$defs"))
        if remove_level and len(schema["properties"]) == 1:
            name, details = list(schema["properties"].items())[0]
            return details, name in schema.get("required", {})
        return schema, True

    def get_paths(self) -> dict[str, Any]:
        paths = super().get_paths()
        add_links(paths, self.schemas)
        return paths

    def add_schema_definitions(self, definitions: dict) -> None:
        for name, definition in definitions.items():
            known = self.schemas.get(name)
            if known is not None and known != definition:
                raise AssertionError(f"two different schemas are both named {name!r}")
        super().add_schema_definitions(definitions)

    def operation_details(self, operation) -> dict[str, Any]:
        result = super().operation_details(operation)
        responses = result["responses"]
        methods = {m.upper() for m in operation.methods}
        unsafe = bool(methods & UNSAFE)
        needs_user = bool(operation.auth_callbacks)
        has_path_params = any(p.get("in") == "path" for p in result.get("parameters", []))
        codes = {422}
        if "requestBody" in result:
            codes.add(400)
        if needs_user:
            codes.add(401)
            if unsafe:
                codes.add(403)
        if has_path_params:
            codes.add(404)
        if unsafe:
            codes |= {409, 413}
        if any(p.get("in") == "query" for p in result.get("parameters", [])):
            codes.add(414)
        for code in sorted(codes):
            responses.setdefault(
                code,
                {
                    "description": DEFAULT_ERRORS[code],
                    "content": {"application/json": {"schema": ERROR_REF}},
                },
            )
        result["responses"] = dict(sorted(responses.items()))
        return result


def _properties(schema: dict[str, Any], components: dict[str, Any]) -> set[str]:
    ref = schema.get("$ref", "")
    if ref:
        schema = components.get(ref.rsplit("/", 1)[-1], {})
    return set(schema.get("properties", {}))


def add_links(paths: dict[str, Any], components: dict[str, Any]) -> None:
    """Link each create (``POST /x`` answering 201) to the operations on ``/x/{id}``."""
    for path, methods in paths.items():
        created = methods.get("post", {}).get("responses", {}).get(201)
        if not created:
            continue
        schema = created.get("content", {}).get("application/json", {}).get("schema", {})
        fields = _properties(schema, components)
        for child, child_methods in sorted(paths.items()):
            prefix, _, rest = child.partition(path + "/{")
            param, closed, tail = rest.partition("}")
            if prefix or not closed or "/" in param or "{" in tail:
                continue
            source = param if param in fields else ("id" if "id" in fields else None)
            if source is None:
                continue
            links = created.setdefault("links", {})
            for method, operation in sorted(child_methods.items()):
                name = "".join(part.title() for part in operation["operationId"].split("_")[-3:])
                links[f"{method.title()}{name}"] = {
                    "operationId": operation["operationId"],
                    "parameters": {param: f"$response.body#/{source}"},
                }
