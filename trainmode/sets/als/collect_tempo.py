"""Collector: the master's tempo and time signature, their automation, and Live's scale.

Live 9+ keeps automation in the master's AutomationEnvelopes, matched to the parameter by
EnvelopeTarget/PointeeId = AutomationTarget@Id; Live 8 (and some Live 9 sets) keep it inside the parameter. The
points of a master envelope are read in batches as they stream past (a recorded tempo
envelope can hold tens of thousands); other tracks' envelopes are never looked at.
"""

from __future__ import annotations

from array import array

from trainmode.sets.als.raw import ParseContext, param, value

MAX_POINTS = 250_000  # master automation points (a pathological real set has 25,000)
MAX_METER = 99 * 5  # denominators 1..16


class TempoCollector:
    subtree = frozenset({"Tempo", "TimeSignature", "PointeeId", "ScaleInformation"})

    def __init__(self, ctx: ParseContext):
        self.ctx = ctx
        self.envelope: list | None = None  # [pointee, flat points] of the open master envelope
        self.points = 0
        self.start = {"AutomationEnvelope": self._envelope_start}
        self.end = {
            "Tempo": self._tempo_end,
            "TimeSignature": self._meter_end,
            "AutomationEnvelope": self._envelope_end,
            "PointeeId": self._pointee_end,
            "ScaleInformation": self._scale_end,
        }
        # Points are folded as pruning reaches them, never through per-element events: <Events>
        # is one of the commonest tags, and watching it would cost an event per envelope.
        self.hooks = {"Events": self._before_prune, "Automation": self._before_automation_prune}

    def _tempo_end(self, el) -> None:
        ctx = self.ctx
        if ctx.scope != "master" or not ctx.in_scope_mixer(el):
            return
        raw = ctx.raw
        raw.bpm = ctx.num(param(el), "the tempo")
        target = el.find("AutomationTarget")
        raw.tempo_target = target.get("Id") if target is not None else None
        raw.inline_tempo_points = self._inline_points(el, "tempo")

    def _inline_points(self, el, what: str) -> list[tuple[float, float]]:
        """Automation kept inside the parameter itself (Live 8 and some 9 sets)."""
        events, num = el.find("ArrangerAutomation/Events"), self.ctx.num
        if events is None:
            return []
        return [
            (num(ev.get("Time"), f"a {what} automation time"), num(ev.get("Value"), f"a {what} automation value"))
            for ev in events
            if ev.get("Value") is not None
        ]

    def _meter_end(self, el) -> None:
        ctx = self.ctx
        if ctx.scope == "master" and ctx.in_scope_mixer(el):
            meter = int(ctx.num(param(el), "the time signature"))
            if not 0 <= meter < MAX_METER:
                raise ctx.fail(f"is damaged: its time signature code {meter} is not one Live uses.")
            ctx.raw.meter = meter
            target = el.find("AutomationTarget")
            ctx.raw.meter_target = target.get("Id") if target is not None else None
            ctx.raw.inline_meter_points = self._inline_points(el, "time signature")

    def _envelope_start(self, el) -> None:
        self.envelope = [None, array("d")] if self.ctx.scope == "master" else None

    def _pointee_end(self, el) -> None:
        if self.envelope is not None and el.getparent().tag == "EnvelopeTarget":
            self.envelope[0] = el.get("Value")

    def _envelope_end(self, el) -> None:
        events = el.find("Automation/Events")
        if self.envelope is not None and events is not None:
            self._fold(events)
        if self.envelope is not None and self.envelope[0] is not None:
            self.ctx.raw.master_envelopes[self.envelope[0]] = self.envelope[1]
        self.envelope = None

    def _is_master_points(self, el) -> bool:
        parent = el.getparent()
        return self.envelope is not None and parent is not None and parent.tag == "Automation"

    def _before_prune(self, el) -> bool:
        if not self._is_master_points(el):
            return False
        self._fold(el)
        return True

    def _before_automation_prune(self, el) -> bool:
        """A finished <Events> that is no longer the last child would be freed unread."""
        if self.envelope is not None and el.getparent() is not None and el.getparent().tag == "AutomationEnvelope":
            for events in el.iterchildren("Events"):
                self._fold(events)
        return False

    def _fold(self, events) -> None:
        """Move the finished automation points (leaf elements) into the open envelope."""
        num, flat = self.ctx.num, self.envelope[1]
        self.points += len(events)
        if self.points > MAX_POINTS:
            raise self.ctx.fail(f"is not a usable Live set: it has more than {MAX_POINTS:,} master automation points.")
        for ev in events:
            if ev.get("Value") is not None:
                flat.extend((num(ev.get("Time"), "an automation time"), num(ev.get("Value"), "an automation value")))
        del events[:]

    def _scale_end(self, el) -> None:
        parent = el.getparent()
        if parent is not None and parent.tag == "LiveSet":
            root = value(el, "RootNote") or value(el, "Root")  # Live <= 11 / 12
            self.ctx.raw.scale = (
                int(self.ctx.num(root, "the scale root")) if root is not None else None,
                value(el, "Name"),
            )
