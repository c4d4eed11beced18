"""What this proto offers stored code by name (world/host_api.py): the learner's entry
points and the foreign-call runtime. Module paths only: nothing here is imported
until stored code first asks for it, so registering costs a send nothing.
"""

from __future__ import annotations

from .world import host_api


def install() -> None:
    host_api.register("learn.notUnderstood", "proto_cli.learn.hook", "on_not_understood")
    host_api.register("learn.infer", "proto_cli.learn.hook", "infer")
    host_api.register("learn.reflectOn", "proto_cli.learn.hook", "reflect_on")
    host_api.register_foreign("proto_cli.learn.runtime")
