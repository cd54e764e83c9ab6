"""Plug-in parameter lists are cut from the byte stream before parsing: exactly the lists'
contents, wherever the stream is split, and nothing when a look-alike tag could fool the cut."""
from __future__ import annotations

import gzip

import pytest

from trainmode.als import parse_als, reader, skip
from trainmode.als.skip import skip_parameter_lists

HEAD = b'<?xml version="1.0" encoding="UTF-8"?>\n<Ableton Creator="Ableton Live 11.3"><Devices>'
TAIL = b"<Eq8 Id=\"2\"/></Devices></Ableton>\n"
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
    b'<MxDeviceAudioEffect Id="1"><ParameterList></ParameterList>'
    b"<ParameterList></ParameterList></MxDeviceAudioEffect>"
)
LISTS, CUT = VST + MAX, VST_CUT + MAX_CUT


def skipped(chunks) -> bytes:
    return b"".join(skip_parameter_lists(chunks, HEAD.index(b"<Ableton")))


def splits(data: bytes):
    """The stream cut in two at every byte, then in pieces of every size up to 20."""
    for at in range(len(data) + 1):
        yield [data[:at], data[at:]]
    for size in range(1, 21):
        yield [data[i:i + size] for i in range(0, len(data), size)]


def test_lists_are_emptied_wherever_the_stream_is_split():
    for chunks in splits(HEAD + LISTS + TAIL):
        assert skipped(chunks) == HEAD + CUT + TAIL


@pytest.mark.parametrize("inner", [
    b"<X><![CDATA[</ParameterList>]]></X>",  # a CDATA section hides a closing tag
    b"<!-- <ParameterList> -->",  # a comment hides an opening tag
    b"<!-- </ParameterList> -->",  # or a closing one
    b'<?pi </ParameterList>?>',  # so does a processing instruction
])
def test_hidden_look_alikes_stop_the_cutting(inner):
    # Once markup that may hide tags is in sight, everything from there on is left as it is;
    # lists before it are cut, unless they were still waiting for more bytes at that point.
    rest = b"<ParameterList>" + inner + b"</ParameterList>" + LISTS + TAIL
    before = {HEAD + vst + mx + rest for vst in (VST, VST_CUT) for mx in (MAX, MAX_CUT)}
    for chunks in splits(HEAD + LISTS + rest):
        assert skipped(chunks) in before
    assert skipped([HEAD + LISTS, rest]) == HEAD + CUT + rest


@pytest.mark.parametrize("odd", [
    b'<ParameterList><ParameterList Kind="a"></ParameterList></ParameterList>',  # an attribute
    b"<ParameterList><P/></ParameterList >",  # a closing tag with a space
    b"<ParameterList><ParameterList/><P/></ParameterList>",  # self-closing inside
])
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
    lists = b"<ParameterList><P/></ParameterList>" * (skip.MAX_LISTS + 10)
    out = skipped([HEAD + lists + TAIL])
    assert out == HEAD + b"<ParameterList></ParameterList>" * skip.MAX_LISTS + lists[-10 * 35:] + TAIL
