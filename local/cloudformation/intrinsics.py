"""CloudFormation intrinsics (!Ref, !GetAtt, !Sub, !If, ...) resolved against the local stack's physical resources."""

from __future__ import annotations

import base64
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from local.cloudformation.template import FunctionSpec, Template, TemplateError

REGION = "us-east-1"
ACCOUNT_ID = "123456789012"  # moto's default account
STACK_NAME = "retouch-local"


@dataclass(frozen=True)
class PhysicalResource:
    """What `!Ref X` and `!GetAtt X.Attr` return for one created resource."""

    ref: str
    attributes: dict[str, str] = field(default_factory=dict)


class _NoValue:
    """AWS::NoValue: drops the property or list item it stands in."""


NO_VALUE = _NoValue()
_SUB_VARIABLE = re.compile(r"\$\{([^}]+)\}")


def parameter_values(template: Template, overrides: Mapping[str, Any] | None = None) -> dict[str, str]:
    """Template defaults with overrides on top, checked like CloudFormation would (fail fast, not at first use)."""
    overrides = dict(overrides or {})
    unknown = set(overrides) - set(template.parameters)
    if unknown:
        raise TemplateError(f"unknown template parameters: {sorted(unknown)}")
    values = {}
    for name, spec in template.parameters.items():
        if name in overrides:
            value = to_string(overrides[name])
        elif "Default" in spec:
            value = to_string(spec["Default"])
        else:
            raise TemplateError(f"parameter {name} has no Default; pass it as an override")
        _check_parameter(name, spec, value)
        values[name] = value
    return values


def _check_parameter(name: str, spec: dict[str, Any], value: str) -> None:
    allowed = spec.get("AllowedValues")
    if allowed is not None and value not in [to_string(v) for v in allowed]:
        raise TemplateError(f"parameter {name}={value!r} is not one of {allowed}")
    if spec.get("Type") == "Number":
        try:
            number = float(value)
        except ValueError:
            raise TemplateError(f"parameter {name}={value!r} is not a number") from None
        if "MinValue" in spec and number < float(spec["MinValue"]):
            raise TemplateError(f"parameter {name}={value} is below MinValue {spec['MinValue']}")
        if "MaxValue" in spec and number > float(spec["MaxValue"]):
            raise TemplateError(f"parameter {name}={value} is above MaxValue {spec['MaxValue']}")


def to_string(value: Any) -> str:
    """Environment variables and parameters are strings in AWS: 240 -> "240", True -> "true"."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


class Resolver:
    def __init__(
        self,
        template: Template,
        parameters: Mapping[str, str],
        resources: Mapping[str, PhysicalResource],
        *,
        region: str = REGION,
        account_id: str = ACCOUNT_ID,
        stack_name: str = STACK_NAME,
    ) -> None:
        self._template = template
        self._parameters = parameters
        self._resources = resources
        self._pseudo = {
            "AWS::Region": region,
            "AWS::AccountId": account_id,
            "AWS::StackName": stack_name,
            "AWS::StackId": f"arn:aws:cloudformation:{region}:{account_id}:stack/{stack_name}/local",
            "AWS::Partition": "aws",
            "AWS::URLSuffix": "amazonaws.com",
        }

    def function_environment(self, function: FunctionSpec) -> dict[str, str]:
        resolved = {name: self.resolve(value) for name, value in function.environment.items()}
        return {name: to_string(value) for name, value in resolved.items() if value is not NO_VALUE}

    def condition(self, name: str) -> bool:
        conditions = self._template.body.get("Conditions") or {}
        if name not in conditions:
            raise TemplateError(f"unknown condition {name}")
        return bool(self.resolve(conditions[name]))

    def resolve(self, value: Any) -> Any:
        if isinstance(value, list):
            return [v for v in (self.resolve(item) for item in value) if v is not NO_VALUE]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            (key, arg), = value.items()
            if key == "Ref":
                return self._ref(arg)
            if key == "Condition":
                return self.condition(arg)
            if key.startswith("Fn::"):
                handler = getattr(self, "_fn_" + key[4:].lower(), None)
                if handler is None:
                    raise TemplateError(f"{key} is not supported locally")
                return handler(arg)
        return {k: v for k, v in ((k, self.resolve(v)) for k, v in value.items()) if v is not NO_VALUE}

    def _ref(self, name: str) -> Any:
        if name == "AWS::NoValue":
            return NO_VALUE
        if name in self._pseudo:
            return self._pseudo[name]
        if name in self._parameters:
            value = self._parameters[name]
            kind = str(self._template.parameters[name].get("Type", ""))
            return value.split(",") if kind.startswith("List<") or kind == "CommaDelimitedList" else value
        if name in self._resources:
            return self._resources[name].ref
        raise TemplateError(f"!Ref {name}: no such parameter, or the resource is not emulated locally")

    def _fn_getatt(self, arg: list[str] | str) -> str:
        logical_id, attribute = arg.split(".", 1) if isinstance(arg, str) else arg
        resource = self._resources.get(logical_id)
        if resource is None or attribute not in resource.attributes:
            raise TemplateError(f"!GetAtt {logical_id}.{attribute} is not available locally")
        return resource.attributes[attribute]

    def _fn_sub(self, arg: str | list[Any]) -> str:
        text, variables = (arg, {}) if isinstance(arg, str) else (arg[0], arg[1])

        def substitute(match: re.Match[str]) -> str:
            name = match.group(1)
            if name.startswith("!"):
                return "${" + name[1:] + "}"  # ${!Literal} escapes a placeholder
            if name in variables:
                return to_string(self.resolve(variables[name]))
            if "." in name and not name.startswith("AWS::"):
                return self._fn_getatt(name)
            return to_string(self._ref(name))

        return _SUB_VARIABLE.sub(substitute, text)

    def _fn_if(self, arg: list[Any]) -> Any:
        name, when_true, when_false = arg
        return self.resolve(when_true if self.condition(name) else when_false)

    def _fn_equals(self, arg: list[Any]) -> bool:
        left, right = (to_string(self.resolve(v)) for v in arg)
        return left == right

    def _fn_not(self, arg: list[Any]) -> bool:
        return not self.resolve(arg[0])

    def _fn_and(self, arg: list[Any]) -> bool:
        return all(self.resolve(v) for v in arg)

    def _fn_or(self, arg: list[Any]) -> bool:
        return any(self.resolve(v) for v in arg)

    def _fn_findinmap(self, arg: list[Any]) -> Any:
        map_name, top, second = (self.resolve(v) for v in arg[:3])
        try:
            return self._template.body["Mappings"][map_name][top][second]
        except KeyError:
            raise TemplateError(f"!FindInMap [{map_name}, {top}, {second}] has no value") from None

    def _fn_join(self, arg: list[Any]) -> str:
        delimiter, items = arg
        return delimiter.join(to_string(v) for v in self.resolve(items))

    def _fn_select(self, arg: list[Any]) -> Any:
        index, items = arg
        return self.resolve(items)[int(self.resolve(index))]

    def _fn_split(self, arg: list[Any]) -> list[str]:
        delimiter, text = arg
        return str(self.resolve(text)).split(delimiter)

    def _fn_base64(self, arg: Any) -> str:
        return base64.b64encode(str(self.resolve(arg)).encode()).decode()

    def _fn_getazs(self, arg: Any) -> list[str]:
        region = self.resolve(arg) or self._pseudo["AWS::Region"]
        return [f"{region}a", f"{region}b", f"{region}c"]
