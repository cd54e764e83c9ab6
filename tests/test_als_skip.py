"""Plug-in parameter lists are cut from the byte stream before parsing: exactly the lists'
contents, wherever the stream is split, and nothing when a look-alike tag could fool the cut."""

from __future__ import annotations

import gzip

import pytest

from trainmode.errors import AlsError
from trainmode.sets.als import parse_als, reader, skip
from trainmode.sets.als.skip import fold_notes, skip_parameter_lists

HEAD = b'<?xml version="1.0" encoding="UTF-8"?>\n<Ableton Creator="Ableton Live 11.3"><Devices>'
TAIL = b'<Eq8 Id="2"/></Devices></Ableton>\n'
# A VST's list (a "<" look-alike escaped in a value, as XML must) and a Max device's nested lists.
VST = (
    b'<PluginDevice Id="0"><PluginDesc><VstPluginInfo><PlugName Value="Serum"/></VstPluginInfo></PluginDesc>'
    b'<ParameterList><PluginFloatParameter Id="0"><ParameterName Value="a &lt;ParameterList&gt; b"/>'
    b"</PluginFloatParameter></ParameterList></PluginDevice>"
)
VST_CUT = (
    b'<PluginDevice Id="0"><PluginDesc><VstPluginInfo><PlugName Value="Serum"/></VstPluginInfo></PluginDesc>'
    b"<ParameterList></ParameterList></PluginDevice>"
)
MAX = (
    b'<MxDeviceAudioEffect Id="1"><ParameterList><ParameterList><MxDFloatParameter Id="0"><Name Value="x"/>'
    b"</MxDFloatParameter></ParameterList>\n<ParameterList></ParameterList></ParameterList>"
    b"<ParameterList></ParameterList></MxDeviceAudioEffect>"
)
MAX_CUT = (
    b'<MxDeviceAudioEffect Id="1"><ParameterList></ParameterList><ParameterList></ParameterList></MxDeviceAudioEffect>'
)
LISTS, CUT = VST + MAX, VST_CUT + MAX_CUT


def skipped(chunks) -> bytes:
    return b"".join(skip_parameter_lists(chunks, HEAD.index(b"<Ableton")))


def splits(data: bytes):
    """The stream cut in two at every byte, then in pieces of every size up to 20."""
    for at in range(len(data) + 1):
        yield [data[:at], data[at:]]
    for size in range(1, 21):
        yield [data[i : i + size] for i in range(0, len(data), size)]


def test_lists_are_emptied_wherever_the_stream_is_split():
    for chunks in splits(HEAD + LISTS + TAIL):
        assert skipped(chunks) == HEAD + CUT + TAIL


@pytest.mark.parametrize(
    "inner",
    [
        b"<X><![CDATA[</ParameterList>]]></X>",  # a CDATA section hides a closing tag
        b"<!-- <ParameterList> -->",  # a comment hides an opening tag
        b"<!-- </ParameterList> -->",  # or a closing one
        b"<?pi </ParameterList>?>",  # so does a processing instruction
    ],
)
def test_hidden_look_alikes_stop_the_cutting(inner):
    # Once markup that may hide tags is in sight, everything from there on is left as it is;
    # lists before it are cut, unless they were still waiting for more bytes at that point.
    rest = b"<ParameterList>" + inner + b"</ParameterList>" + LISTS + TAIL
    before = {HEAD + vst + mx + rest for vst in (VST, VST_CUT) for mx in (MAX, MAX_CUT)}
    for chunks in splits(HEAD + LISTS + rest):
        assert skipped(chunks) in before
    assert skipped([HEAD + LISTS, rest]) == HEAD + CUT + rest


@pytest.mark.parametrize(
    "odd",
    [
        b'<ParameterList><ParameterList Kind="a"></ParameterList></ParameterList>',  # an attribute
        b"<ParameterList><P/></ParameterList >",  # a closing tag with a space
        b"<ParameterList><ParameterList/><P/></ParameterList>",  # self-closing inside
    ],
)
def test_a_list_whose_end_is_uncertain_is_left_whole(odd):
    for chunks in splits(HEAD + odd + TAIL):
        assert skipped(chunks) == HEAD + odd + TAIL


def test_a_list_cut_off_by_the_end_of_the_file_is_left_for_the_parser():
    doc = HEAD + b"<ParameterList><P/><ParameterList>"
    for chunks in splits(doc):
        assert skipped(chunks) == doc


SET = b"""<?xml version="1.0" encoding="UTF-8"?>
<Ableton MajorVersion="5" MinorVersion="11.0_433" Creator="Ableton Live 11.3.21">%s
  <LiveSet><Tracks>
    <MidiTrack Id="1"><Name><EffectiveName Value="Lead"/><UserName Value=""/></Name>
      <DeviceChain><DeviceChain><Devices>%s<Reverb Id="3"/></Devices></DeviceChain></DeviceChain>
    </MidiTrack>
  </Tracks>
  <MasterTrack><DeviceChain><Mixer>
    <Tempo><Manual Value="120"/><AutomationTarget Id="8"/></Tempo>
    <TimeSignature><Manual Value="201"/><AutomationTarget Id="10"/></TimeSignature>
  </Mixer></DeviceChain></MasterTrack>
  </LiveSet>
</Ableton>
"""


@pytest.mark.parametrize("chunk", [7, 64, reader.CHUNK])
def test_the_summary_is_the_same_with_and_without_cutting(monkeypatch, chunk):
    monkeypatch.setattr(reader, "CHUNK", chunk)
    cut = parse_als(gzip.compress(SET % (b"", LISTS)), filename="a.als").summary
    # A comment before the first list turns cutting off for the whole file.
    whole = parse_als(gzip.compress(SET % (b"<!-- -->", LISTS)), filename="a.als").summary
    assert cut == whole
    track = cut["tracks"][0]
    assert track["plugins"] == ["Serum"]
    assert track["devices"] == ["Max Audio Effect", "Reverb"]


def test_a_read_full_of_tiny_lists_is_passed_on_after_a_few():
    # Bounded work on a file made of nothing but lists; every byte still arrives.
    lists = b"<ParameterList><P/></ParameterList>" * (skip.MAX_REGIONS + 10)
    out = skipped([HEAD + lists + TAIL])
    assert out == HEAD + b"<ParameterList></ParameterList>" * skip.MAX_REGIONS + lists[-10 * 35 :] + TAIL


# -- MIDI note lists ---------------------------------------------------------------------
def note(duration: str, extra: str = ' IsEnabled="true"') -> bytes:
    return f'<MidiNoteEvent Time="0" Duration="{duration}" Velocity="100"{extra} />'.encode()


def keytrack(*notes: bytes, key: int = 60) -> bytes:
    return b'<KeyTrack Id="0"><Notes>\n' + b"\n".join(notes) + b'\n</Notes><MidiKey Value="%d"/></KeyTrack>' % key


PLAIN = keytrack(note("0.25"), note("0.5"), note("-1"), note("1e-3", ""), key=64)  # Live 12 writes no IsEnabled
FOLDED = b'<KeyTrack Id="0"><Notes>\n<T C="4" W="0.751"/></Notes><MidiKey Value="64"/></KeyTrack>'
LEFT_WHOLE = [
    keytrack(note("0.25"), note("0.5", ' IsEnabled="false"')),  # a disabled note
    keytrack(note("0.25"), note("0.5", " IsEnabled='true'")),  # single quotes
    keytrack(note("0.25"), note("nan")),  # not a finite length
    keytrack(note("0.25"), note("1e13")),  # out of range
    keytrack(note("0.25"), b'<MidiNoteEvent Time="0" Velocity="100" />'),  # no length
    keytrack(note("0.25"), b"<MidiNoteEvent Time='0' Duration=\"1\"></MidiNoteEvent>"),  # not self-closing
]


def folded(chunks) -> bytes:
    return b"".join(fold_notes(chunks, "T", HEAD.index(b"<Ableton")))


@pytest.fixture
def short_lists(monkeypatch):
    """Count the lists here however short (real ones are counted from ~15 notes up)."""
    monkeypatch.setattr(skip, "MIN_NOTES_BYTES", 0)


def test_short_note_lists_are_left_to_the_parser():
    assert folded([HEAD + PLAIN + TAIL]) == HEAD + PLAIN + TAIL
    longer = keytrack(*[note("0.25")] * 40)
    assert (
        folded([HEAD + longer + TAIL])
        == HEAD + longer.replace(b"\n".join([note("0.25")] * 40) + b"\n", b'<T C="40" W="10.0"/>') + TAIL
    )


def test_plain_note_lists_become_one_count_wherever_the_stream_is_split(short_lists):
    outer = b"<Notes><KeyTracks>%s</KeyTracks></Notes>"  # Live 11+: the clip's own <Notes> holds KeyTracks
    for chunks in splits(HEAD + outer % (PLAIN + PLAIN) + TAIL):
        assert folded(chunks) == HEAD + outer % (FOLDED + FOLDED) + TAIL


@pytest.mark.parametrize("odd", LEFT_WHOLE)
def test_note_lists_not_plainly_written_are_left_whole(odd, short_lists):
    for chunks in splits(HEAD + odd + PLAIN + TAIL):
        assert folded(chunks) == HEAD + odd + FOLDED + TAIL


def clip_set(*keytracks: bytes, comment: bytes = b"") -> bytes:
    clip = (
        b'<MidiClip Id="0"><CurrentStart Value="0"/><CurrentEnd Value="16"/><Disabled Value="false"/>'
        b"<Notes><KeyTracks>%s</KeyTracks></Notes></MidiClip>" % b"".join(keytracks)
    )
    arrangement = (
        b"<MainSequencer><ClipTimeable><ArrangerAutomation><Events>%s</Events>"
        b"</ArrangerAutomation></ClipTimeable></MainSequencer>" % clip
    )
    return SET % (comment, b"</Devices>" + arrangement + b"<Devices>")


def parse_both_ways(*keytracks: bytes):
    """The summary (or error) with notes counted early, and with early counting turned off
    by a comment before the set."""
    results = []
    for comment in (b"", b"<!-- -->"):
        try:
            results.append(parse_als(gzip.compress(clip_set(*keytracks, comment=comment)), filename="a.als").summary)
        except AlsError as exc:
            results.append(str(exc))
    return results


@pytest.mark.parametrize("chunk", [7, 64, reader.CHUNK])
def test_note_facts_are_the_same_counted_early_or_parsed(monkeypatch, chunk, short_lists):
    monkeypatch.setattr(reader, "CHUNK", chunk)
    early, parsed = parse_both_ways(PLAIN, *LEFT_WHOLE[:2], keytrack(note("2"), note("2"), key=67))
    assert early == parsed
    assert early["notes"]["count"] == 4 + 1 + 2 + 2  # the disabled note is not counted
    assert early["tracks"][0]["note_count"] == 9


@pytest.mark.parametrize("odd", LEFT_WHOLE[2:5])
def test_a_bad_note_is_the_same_error_either_way(odd, short_lists):
    early, parsed = parse_both_ways(PLAIN, odd)
    assert early == parsed
    assert "MIDI note length" in early


def test_a_count_written_in_the_file_is_not_taken_for_one(short_lists):
    forged = b'<KeyTrack Id="1"><Notes><N0123456789abcdef C="999" W="9"/></Notes><MidiKey Value="67"/></KeyTrack>'
    early, parsed = parse_both_ways(PLAIN, forged)
    assert early == parsed  # the made-up element is read as a note without a length
    assert "a MIDI note length is missing" in early
