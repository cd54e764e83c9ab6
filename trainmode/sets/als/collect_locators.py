"""Collector: the arrangement's locators (LiveSet/Locators/Locators/Locator: Time and Name)."""

from __future__ import annotations

from trainmode.sets.als.raw import MAX_ITEMS, ParseContext, value


class LocatorCollector:
    subtree = frozenset({"Locator"})

    def __init__(self, ctx: ParseContext):
        self.ctx = ctx
        self.start: dict = {}
        self.end = {"Locator": self._locator_end}
        self.hooks: dict = {}

    def _locator_end(self, el) -> None:
        parent, ctx = el.getparent(), self.ctx
        if parent is not None and parent.tag == "Locators":
            if len(ctx.raw.locators) >= MAX_ITEMS:
                raise ctx.too_many("locators")
            ctx.raw.locators.append(
                {
                    "time": ctx.num(value(el, "Time"), "a locator time"),
                    "name": value(el, "Name") or "",
                }
            )
