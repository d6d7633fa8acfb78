import json
import struct

import pytest

from accompanist_train import sampling_meta


def write_file(path, metadata, data=b"\x00\x00\x80\x3f" * 4):
    header = {"__metadata__": metadata, "w": {"dtype": "F32", "shape": [4], "data_offsets": [0, len(data)]}}
    text = json.dumps(header).encode()
    path.write_bytes(struct.pack("<Q", len(text)) + text + data)
    return data


def test_set_keeps_tensors_and_other_metadata(tmp_path):
    f = tmp_path / "m.safetensors"
    data = write_file(f, {"format": "accompanist-v1", "config": "{}"})
    assert sampling_meta.sampling(f) == {}
    sampling_meta.set_sampling(f, {"temperature": 0.5, "above_melody": -1})
    assert sampling_meta.sampling(f) == {"temperature": 0.5, "above_melody": -1}
    header, start = sampling_meta.read_header(f)
    assert header["__metadata__"]["format"] == "accompanist-v1"
    assert header["w"]["data_offsets"] == [0, len(data)]
    assert start % 8 == 0
    assert f.read_bytes()[start:] == data
    # Replacing, not merging.
    sampling_meta.set_sampling(f, {"density": 1.2})
    assert sampling_meta.sampling(f) == {"density": 1.2}


def test_refuses_what_is_not_a_number(tmp_path):
    f = tmp_path / "m.safetensors"
    write_file(f, {})
    before = f.read_bytes()
    for bad in ({"temperature": "hot"}, {"temperature": True}):
        with pytest.raises(ValueError):
            sampling_meta.set_sampling(f, bad)
    assert f.read_bytes() == before
