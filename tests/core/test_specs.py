import pytest

from regtui.specs import BN, DROPOUT, NORMS, WEIGHT_DECAY, ConfigError, Param


def test_int_param_accepts_integral_values_only():
    p = Param("iters", int, 10, "", min=1)
    assert p.coerce(5) == 5 and p.coerce(5.0) == 5 and p.parse("1e3") == 1000
    for bad in (5.5, True, "5", 0):
        with pytest.raises(ConfigError, match="iters"):
            p.coerce(bad)


def test_float_param_rejects_non_finite_and_bools():
    p = WEIGHT_DECAY.param("lr")
    assert p.parse("1e-2") == 0.01 and isinstance(p.coerce(1), float)
    for bad in ("nan", "inf", "abc", "0", "-1"):
        with pytest.raises(ConfigError, match=r"lr: .* expected a number > 0"):
            p.parse(bad)
    with pytest.raises(ConfigError):
        p.coerce(True)


@pytest.mark.parametrize(
    "key, value, allowed",
    [
        ("dropout", 1.0, ">= 0 and < 1"),
        ("dropout", -0.1, ">= 0 and < 1"),
        ("momentum", 1.5, ">= 0 and <= 1"),
        ("hidden", 0, "an integer >= 1"),
    ],
)
def test_out_of_range_names_key_value_and_range(key, value, allowed):
    with pytest.raises(ConfigError) as err:
        DROPOUT.validate({key: value})
    message = str(err.value)
    assert message.startswith(f"{key}: {value!r}") and allowed in message and "\n" not in message


def test_unknown_key_suggests_closest():
    with pytest.raises(ConfigError, match=r"unknown parameter 'weight_decy'.*did you mean 'weight_decay'"):
        WEIGHT_DECAY.validate({"weight_decy": 0.1})


def test_choice_and_bool_params():
    assert BN.param("init").parse("kaiming") == "kaiming"
    with pytest.raises(ConfigError, match="one of default, normal, kaiming"):
        BN.param("init").parse("xavier")
    assert BN.param("batchnorm").parse("yes") is True
    with pytest.raises(ConfigError, match="true or false"):
        BN.param("batchnorm").parse("maybe")


def test_cross_checks():
    with pytest.raises(ConfigError, match="groups: 4 does not divide channels = 6"):
        NORMS.validate({"groups": 4})
    with pytest.raises(ConfigError, match=r"batch: 1 .*BatchNorm needs at least 2"):
        NORMS.validate({"norm": "batch", "batch": 1})
    assert NORMS.validate({"norm": "group", "batch": 1}) == {"norm": "group", "batch": 1}
    with pytest.raises(ConfigError, match="batch: 1"):
        BN.validate({"batchnorm": True, "batch": 1})
