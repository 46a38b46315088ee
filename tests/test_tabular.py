import warnings

import numpy as np
import pandas as pd
import pytest

from skvae._tabular import TabularEncoder


@pytest.mark.parametrize("scaling", ["standard", "robust", "quantile", "none"])
def test_mixed_frame_round_trips_exactly(wine_mixed, scaling):
    encoder = TabularEncoder(scaling=scaling).fit(wine_mixed)
    encoded = encoder.transform(wine_mixed)
    assert encoded.dtype == np.float32
    # 5 numeric + 1 binary (bool) + 3 + 3 one-hot levels
    assert encoded.shape == (len(wine_mixed), 5 + 1 + 3 + 3)
    back = encoder.inverse_transform(encoded)
    assert list(back.columns) == list(wine_mixed.columns)
    assert (back.dtypes == wine_mixed.dtypes).all()
    for name in ["magnesium", "cultivar", "strong", "hue_level"]:
        pd.testing.assert_series_equal(back[name], wine_mixed[name])
    for name in ["alcohol", "malic_acid", "color_intensity", "proline"]:
        np.testing.assert_allclose(back[name], wine_mixed[name], rtol=1e-5)
    assert list(back["cultivar"].cat.categories) == ["class_0", "class_1", "class_2"]


def test_layout_groups_columns_by_kind(wine_mixed):
    encoder = TabularEncoder().fit(wine_mixed)
    kinds = {c.name: c.kind for c in encoder.columns_}
    assert kinds["strong"] == "binary"
    assert kinds["cultivar"] == "categorical"
    assert kinds["magnesium"] == "numeric"
    assert encoder.n_numeric_ == 5 and encoder.n_binary_ == 1
    assert encoder.category_sizes_ == [3, 3]
    per_variable = np.arange(len(wine_mixed.columns))[None, :].astype(float)
    reordered = encoder.per_column(per_variable)
    # variable k belongs to column variable_index_[k]
    assert reordered[0, encoder.variable_index_[5]] == 5


def test_standard_scaling_centres_and_scales(cancer):
    X = cancer[0]
    encoded = TabularEncoder("standard").fit(X).transform(X)
    np.testing.assert_allclose(encoded.mean(axis=0), 0, atol=1e-5)
    np.testing.assert_allclose(encoded.std(axis=0), 1, atol=1e-4)


def test_constant_column_keeps_unit_scale():
    X = np.column_stack([np.arange(5.0), np.full(5, 3.0)])
    encoder = TabularEncoder().fit(X)
    encoded = encoder.transform(X)
    np.testing.assert_array_equal(encoded[:, 1], 0)
    np.testing.assert_allclose(encoder.inverse_transform(encoded), X, atol=1e-6)


def test_array_input_gives_array_back(cancer):
    X = cancer[0][:20]
    encoder = TabularEncoder().fit(X)
    back = encoder.inverse_transform(encoder.transform(X))
    assert isinstance(back, np.ndarray)
    np.testing.assert_allclose(back, X, rtol=1e-5)


def test_arrays_come_back_in_their_dtype(cancer):
    X32 = cancer[0][:20].astype(np.float32)
    encoder = TabularEncoder().fit(X32)
    assert encoder.inverse_transform(encoder.transform(X32)).dtype == np.float32
    mixed = np.empty((4, 2), dtype=object)
    mixed[:, 0] = ["red", "blue", "red", "green"]
    mixed[:, 1] = [1.5, 2.0, 0.5, 1.0]
    encoder = TabularEncoder().fit(mixed)
    # numbers in an object array are a numeric column, strings categories
    assert [c.kind for c in encoder.columns_] == ["categorical", "numeric"]
    back = encoder.inverse_transform(encoder.transform(mixed))
    assert back.dtype == object
    assert back[:, 0].tolist() == ["red", "blue", "red", "green"]
    np.testing.assert_allclose(back[:, 1].astype(float), [1.5, 2.0, 0.5, 1.0])


def test_clip_keeps_numbers_in_training_range(wine_mixed):
    encoder = TabularEncoder().fit(wine_mixed)
    encoded = encoder.transform(wine_mixed)
    encoded[:, 0] = 100.0  # far beyond any alcohol level
    back = encoder.inverse_transform(encoded, clip=True)
    assert back["alcohol"].max() == wine_mixed["alcohol"].max()


@pytest.mark.parametrize(
    "bad, match",
    [
        (
            lambda f: f.assign(alcohol=np.where(f.index == 3, np.inf, f.alcohol)),
            "'alcohol' contains infinity",
        ),
        (
            lambda f: f.assign(hue_level=f.hue_level.where(f.index != 0, "purple")),
            "'hue_level' holds the category 'purple', which was not seen in fit",
        ),
        (lambda f: f.drop(columns="proline"), r"missing \['proline'\]"),
        (lambda f: f.assign(extra=1.0), r"unexpected \['extra'\]"),
        (
            lambda f: f.astype({"alcohol": object}).assign(
                alcohol=["x"] + list(f.alcohol[1:])
            ),
            "'alcohol' was numeric in fit",
        ),
        (lambda f: f.iloc[:0], "empty table"),
        (lambda f: f[list(f.columns[::-1])], "different order"),
    ],
)
def test_bad_input_is_named(wine_mixed, bad, match):
    encoder = TabularEncoder().fit(wine_mixed)
    with pytest.raises(ValueError, match=match):
        encoder.transform(bad(wine_mixed))


def test_values_too_far_out_for_float32_are_bounded_with_a_warning(wine_mixed):
    # A finite value past float32's range used to encode as inf.
    encoder = TabularEncoder().fit(wine_mixed)
    far = wine_mixed.assign(
        proline=np.where(wine_mixed.index == 0, 1e300, wine_mixed.proline)
    )
    with pytest.warns(UserWarning, match=r"\['proline'\] hold values more than"):
        encoded = encoder.transform(far)
    assert np.isfinite(encoded).all()
    column = encoder.numeric_index_.index(list(wine_mixed.columns).index("proline"))
    assert encoded[0, column] == np.float32(1e12)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        np.testing.assert_array_equal(encoder.transform(wine_mixed)[1:], encoded[1:])


def test_levels_given_as_text_warn_that_the_type_changed():
    # Fit saw 1, 2 and True; a CSV read later may give '1', '2' and 'True':
    # each cell then scored as an unseen level, without a word.
    frame = pd.DataFrame(
        {"code": pd.Categorical([1, 2, 1, 2]), "flag": [True, False, True, True]}
    )
    encoder = TabularEncoder(handle_unknown="ignore").fit(frame)
    with pytest.warns(UserWarning, match=r"'code' holds '1' \(str\), which fit"):
        encoder.transform(frame.assign(code=frame.code.astype(str)))
    with pytest.warns(UserWarning, match=r"'flag' holds 'True' \(str\)"):
        encoder.transform(frame.assign(flag=frame.flag.astype(str)))
    new_level = frame.assign(code=pd.Categorical([1, 2, 3, 2]))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        encoded = encoder.transform(new_level)  # a new level: no warning
    assert np.isnan(encoded[2]).any()


def test_fit_rejects_empty_columns_and_tables(wine_mixed):
    with pytest.raises(ValueError, match="'alcohol' holds no value in fit"):
        TabularEncoder().fit(wine_mixed.assign(alcohol=np.nan))
    with pytest.raises(ValueError, match="'alcohol' contains infinity"):
        TabularEncoder().fit(wine_mixed.assign(alcohol=np.inf))
    with pytest.raises(ValueError, match="empty table"):
        TabularEncoder().fit(wine_mixed.iloc[:0])
    with pytest.raises(ValueError, match="scaling must be one of"):
        TabularEncoder(scaling="minmax").fit(wine_mixed)


def test_two_level_strings_are_binary_and_come_back():
    frame = pd.DataFrame(
        {"x": [0.1, 0.5, 0.9, 0.3], "answer": ["no", "yes", "no", "no"]}
    )
    encoder = TabularEncoder().fit(frame)
    assert encoder.columns_[1].kind == "binary"
    back = encoder.inverse_transform(encoder.transform(frame))
    assert back["answer"].tolist() == ["no", "yes", "no", "no"]


@pytest.mark.parametrize(
    "values, step",
    [
        ([3, 0, 7, 1, 1], 1.0),  # counts
        ([0.5, 2.0, 1.0, 0.5], 0.5),  # half points
        ([0.1, 0.3, 0.7, 0.3], 0.2),  # a grid offset from 0, float rounding
        ([0.0, 1.0, 0.0], 0.0),  # two values: a flag, kept continuous
        ([2.0, 2.0], 0.0),  # constant
        ([0.0, 1.0, 2.5], 0.0),  # no common grid
    ],
)
def test_grid_step_of_numeric_columns(values, step):
    encoder = TabularEncoder().fit(pd.DataFrame({"x": values}))
    assert encoder.columns_[0].step == pytest.approx(step)


def test_measurement_precision_gives_narrow_bins(cancer):
    # Measurements recorded to 3-6 decimals lie on a grid too, of bins far
    # narrower than the columns' spread (and than the network's scale floor).
    encoder = TabularEncoder().fit(cancer[0])
    assert encoder.columns_[0].step == pytest.approx(0.001)
    assert encoder.half_bins_.max() < 0.01


@pytest.mark.parametrize("scaling", ["standard", "robust", "none"])
def test_half_bins_are_half_the_grid_step_in_scaled_units(wine_mixed, scaling):
    encoder = TabularEncoder(scaling=scaling).fit(wine_mixed)
    half_bins = dict(zip(encoder.numeric_index_, encoder.half_bins_, strict=True))
    names = [c.name for c in encoder.columns_]
    magnesium = names.index("magnesium")
    scaled = encoder.transform(wine_mixed.iloc[:2].assign(magnesium=[100, 101]))
    one_step = (
        scaled[1, encoder.numeric_index_.index(magnesium)]
        - scaled[0, encoder.numeric_index_.index(magnesium)]
    )
    assert 2 * half_bins[magnesium] == pytest.approx(one_step, rel=1e-5)
    assert half_bins[names.index("proline")] > 0  # whole numbers too
    # alcohol is recorded to two decimals
    assert encoder.columns_[names.index("alcohol")].step == pytest.approx(0.01)


def test_quantile_scaling_has_no_bins(wine_mixed):
    encoder = TabularEncoder(scaling="quantile").fit(wine_mixed)
    assert not encoder.half_bins_.any()


def holed(frame):
    """``frame`` with a few cells missing, each marked its own way."""
    frame = frame.astype({"hue_level": object, "strong": "boolean"})
    frame.loc[[1, 5], "alcohol"] = np.nan
    frame.loc[2, "hue_level"] = None
    frame.loc[3, "hue_level"] = pd.NA
    frame.loc[4, "cultivar"] = np.nan
    frame.loc[6, "strong"] = pd.NA
    return frame


def test_missing_cells_are_nan_entries_with_a_flag_per_column(wine_mixed):
    frame = holed(wine_mixed)
    encoder = TabularEncoder().fit(frame)
    assert [c.missing_rate > 0 for c in encoder.columns_] == [
        name in ("alcohol", "hue_level", "cultivar", "strong") for name in frame.columns
    ]
    # 5 numeric | strong | four flags | 3 + 3 one-hot levels
    assert encoder.n_binary_ == 1 + 4
    encoded = encoder.transform(frame)
    assert encoded.shape == (len(frame), 5 + 5 + 3 + 3)
    assert np.isnan(encoded[[1, 5], 0]).all()
    assert np.isnan(encoded[6, 5])
    flags = encoded[:, 6:10]
    assert flags.sum() == 6
    assert set(np.flatnonzero(flags.any(axis=1))) == set(range(1, 7))
    assert np.isnan(encoded[4, 10:13]).all() and np.isnan(encoded[[2, 3], 13:]).all()
    # Statistics leave the holes out.
    observed = frame["alcohol"].dropna()
    np.testing.assert_allclose(encoder.center_[0], observed.mean())
    # Back with the holes where the flags say, or filled.
    back = encoder.inverse_transform(encoded, missing=True)
    pd.testing.assert_frame_equal(back.isna(), frame.isna())
    assert not encoder.inverse_transform(np.nan_to_num(encoded)).isna().any().any()


def test_missing_cells_of_a_column_never_missing_in_fit_are_nan(wine_mixed):
    encoder = TabularEncoder().fit(wine_mixed)
    encoded = encoder.transform(holed(wine_mixed))
    assert encoded.shape == (len(wine_mixed), 12)
    assert np.isnan(encoded[[1, 5], 0]).all() and np.isnan(encoded[4, 6:9]).all()


def test_unseen_levels_are_errors_or_missing_cells(wine_mixed):
    new = wine_mixed.astype({"hue_level": object, "cultivar": object})
    new.loc[0, "hue_level"] = "violet"
    new.loc[1, "cultivar"] = "class_9"
    with pytest.raises(ValueError, match="handle_unknown='ignore'"):
        TabularEncoder().fit(wine_mixed).transform(new)
    encoder = TabularEncoder(handle_unknown="ignore").fit(wine_mixed)
    encoded = encoder.transform(new)
    assert np.isnan(encoded[0, 9:]).all() and np.isnan(encoded[1, 6:9]).all()
    np.testing.assert_array_equal(encoded[2:], encoder.transform(wine_mixed)[2:])


def test_column_kinds_override_the_guess(wine_mixed):
    frame = wine_mixed.assign(
        grade=[str(v % 5) for v in range(len(wine_mixed))],
        flag=np.arange(len(wine_mixed)) % 2,
    )
    with pytest.warns(UserWarning, match="'grade' holds numbers as text"):
        guessed = TabularEncoder().fit(frame)
    kinds = {c.name: c.kind for c in guessed.columns_}
    assert kinds["grade"] == "categorical" and kinds["flag"] == "numeric"
    chosen = TabularEncoder(
        column_kinds={"grade": "numeric", "flag": "binary", "magnesium": "categorical"}
    ).fit(frame)
    kinds = {c.name: c.kind for c in chosen.columns_}
    assert (kinds["grade"], kinds["flag"], kinds["magnesium"]) == (
        "numeric",
        "binary",
        "categorical",
    )
    back = chosen.inverse_transform(chosen.transform(frame))
    assert (back["flag"] == frame["flag"]).all()
    assert (back["magnesium"] == frame["magnesium"]).all()


def test_booleans_with_holes_are_binary_without_a_warning(wine_mixed):
    # Masking a bool column in pandas gives an object column of True, False
    # and NaN; its values are not numbers written as text.
    flags = pd.Series(np.arange(len(wine_mixed)) % 3 == 0)
    holed = wine_mixed.assign(flag=flags.where(np.arange(len(flags)) % 7 > 0))
    assert holed["flag"].dtype == object
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        encoder = TabularEncoder().fit(holed)
    column = encoder.columns_[-1]
    assert (column.kind, column.levels) == ("binary", [False, True])
    encoded = encoder.transform(holed)
    complete = encoder.transform(wine_mixed.assign(flag=flags))
    holed_rows = holed["flag"].isna().to_numpy()
    np.testing.assert_array_equal(np.isnan(encoded).sum(axis=1), holed_rows)
    # The flag is read as the bool column would be; holed rows also set the
    # column's "missing" flag, which the complete column does not have.
    np.testing.assert_array_equal(encoded[~holed_rows], complete[~holed_rows])


def test_numbers_with_pd_na_holes_are_numeric_without_a_warning(wine_mixed):
    # A nullable integer column with holes, passed on as an object array
    # (DataFrame.to_numpy()), holds Python ints and pd.NA. It used to be read
    # as "numbers as text": a categorical column of one level per value.
    counts = pd.array(np.arange(len(wine_mixed)) % 9, dtype="Int64")
    counts[::7] = pd.NA
    frame = wine_mixed[["alcohol", "magnesium"]].assign(count=counts)
    rows = frame.to_numpy()
    assert rows.dtype == object and rows[0, 2] is pd.NA
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        from_rows = TabularEncoder().fit(rows)
        from_frame = TabularEncoder().fit(frame.astype(object))
    assert [c.kind for c in from_rows.columns_] == ["numeric"] * 3
    assert [c.kind for c in from_frame.columns_] == ["numeric"] * 3
    np.testing.assert_array_equal(
        from_rows.transform(rows), TabularEncoder().fit(frame).transform(frame)
    )


@pytest.mark.parametrize(
    "kinds, match",
    [
        ({"nope": "numeric"}, r"X does not have: \['nope'\]"),
        ({"alcohol": "ordinal"}, "must be one of"),
        ({"hue_level": "numeric"}, "'hue_level' cannot be modelled as numeric"),
        ({"magnesium": "binary"}, "'magnesium' cannot be modelled as binary"),
    ],
)
def test_bad_column_kinds_are_named(wine_mixed, kinds, match):
    with pytest.raises(ValueError, match=match):
        TabularEncoder(column_kinds=kinds).fit(wine_mixed)


def test_dates_are_not_guessed(wine_mixed):
    dated = wine_mixed.assign(day=pd.date_range("2026-01-01", periods=len(wine_mixed)))
    with pytest.raises(ValueError, match="'day' holds dates or times"):
        TabularEncoder().fit(dated)
    # a date per row, asked for as categorical: done, with the identifier warning
    with pytest.warns(UserWarning, match="'day' holds 178 distinct values"):
        encoder = TabularEncoder(column_kinds={"day": "categorical"}).fit(dated)
    assert encoder.columns_[-1].kind == "categorical"


def test_complex_numbers_are_named_not_cast(wine_mixed):
    waves = wine_mixed.assign(wave=wine_mixed["alcohol"] * 1j)
    with pytest.raises(ValueError, match="'wave' holds complex numbers"):
        TabularEncoder().fit(waves)
    encoder = TabularEncoder().fit(wine_mixed)
    turned = wine_mixed.assign(alcohol=wine_mixed["alcohol"] + 0j)
    with pytest.raises(ValueError, match="'alcohol' holds complex numbers"):
        encoder.transform(turned)


def test_a_column_that_names_its_rows_gets_a_warning(wine_mixed):
    named = wine_mixed.assign(name=[f"wine {i}" for i in range(len(wine_mixed))])
    with pytest.warns(UserWarning, match="'name' holds 178 distinct values in 178"):
        TabularEncoder().fit(named)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        # ordinary categories, and the same names with most of them repeated
        TabularEncoder().fit(wine_mixed)
        TabularEncoder().fit(named.assign(name=[f"w{i % 60}" for i in range(178)]))


def test_strict_transform_rejects_unseen_levels_and_allows_holes(wine_mixed):
    encoder = TabularEncoder(handle_unknown="ignore").fit(wine_mixed)
    holed = wine_mixed.copy()
    holed["strong"] = holed["strong"].astype(object)
    holed.loc[holed.index[:3], ["hue_level", "strong", "proline"]] = np.nan
    np.testing.assert_array_equal(
        encoder.transform(holed, strict=True), encoder.transform(holed)
    )
    unseen = wine_mixed.copy()
    unseen.loc[unseen.index[7], "hue_level"] = "extreme"
    assert np.isnan(encoder.transform(unseen)[7]).any()
    with pytest.raises(ValueError, match="'hue_level' holds 'extreme' in row 7"):
        encoder.transform(unseen, strict=True)


def test_point_masses_are_the_values_that_hold_the_share(wine_spiky):
    encoder = TabularEncoder(point_mass_share=0.2).fit(wine_spiky)
    masses = {c.name: c.point_masses for c in encoder.columns_ if c.kind == "numeric"}
    assert masses == {
        "alcohol": (),
        "malic_acid": (0.0,),
        "color_intensity": (),
        "proline": (),
        "magnesium": (100.0,),
    }
    assert TabularEncoder().fit(wine_spiky).mixture_index_ == []
    # Each point mass column adds a block over {continuous, its point masses}.
    assert encoder.category_sizes_ == [3, 3, 2, 2]
    assert list(encoder.point_mass_variables_) == [1, 4]
    assert encoder.variable_index_[-2:] == [1, 4]


@pytest.mark.parametrize(
    "values, share, masses",
    [
        ([0, 0, 0, 0, 1, 2, 3, 4], 0.2, (0.0,)),
        ([0, 0, 0, 5, 5, 5, 7, 7, 1, 2, 3], 0.1, (0.0, 5.0, 7.0)),  # three at most
        ([0, 0, 0, 5, 5, 5, 1, 2, 3, 4], 0.25, (0.0, 5.0)),
        ([0, 0, 0, 5, 5, 5, 1, 2, 3, 4], 0.35, ()),
        ([0, 0, 0, 0, 5, 5, 5, 1, 2, 3], 0.1, (0.0, 5.0)),  # three stay continuous
        ([0, 0, 0, 0, 1, 1, 2], 0.1, ()),  # few values: one Gaussian, as before
        ([0.5, 1.5, 2.5, 3.5], 0.3, ()),
    ],
)
def test_point_mass_rule(values, share, masses):
    frame = pd.DataFrame({"x": np.asarray(values, dtype=float)})
    encoder = TabularEncoder(point_mass_share=share).fit(frame)
    assert encoder.columns_[0].point_masses == masses


def test_point_masses_leave_the_continuous_values_asked_for():
    frame = pd.DataFrame({"x": [4.0] * 6 + [1.0, 2.0, 3.0, 5.0, 6.0]})
    assert TabularEncoder(point_mass_share=0.2).fit(frame).columns_[0].point_masses == (
        4.0,
    )
    keep_five = TabularEncoder(point_mass_share=0.2, min_continuous_values=5)
    assert keep_five.fit(frame).columns_[0].point_masses == (4.0,)
    keep_six = TabularEncoder(point_mass_share=0.2, min_continuous_values=6)
    assert keep_six.fit(frame).columns_[0].point_masses == ()


def test_point_masses_encode_as_a_block_and_come_back_exactly(wine_spiky):
    encoder = TabularEncoder(point_mass_share=0.2).fit(wine_spiky)
    encoded = encoder.transform(wine_spiky)
    assert encoded.shape == (len(wine_spiky), 5 + 1 + 3 + 3 + 2 + 2)
    at_zero = (wine_spiky["malic_acid"] == 0).to_numpy()
    # The Gaussian's entry is a hole at the point mass; the block says which.
    assert (
        np.isnan(encoded[at_zero, 1]).all() and not np.isnan(encoded[~at_zero, 1]).any()
    )
    block = encoded[:, 12:14]
    np.testing.assert_array_equal(block[:, 1], at_zero)
    np.testing.assert_array_equal(block.sum(axis=1), 1)
    # The scaling and the grid see the continuous values only.
    continuous = wine_spiky["magnesium"][wine_spiky["magnesium"] != 100]
    np.testing.assert_allclose(encoder.center_[4], continuous.mean())
    np.testing.assert_allclose(encoder.scale_[4], continuous.std(ddof=0))
    back = encoder.inverse_transform(np.nan_to_num(encoded))
    assert (back["malic_acid"][at_zero] == 0).all()
    assert (back["magnesium"] == wine_spiky["magnesium"]).all()
    np.testing.assert_allclose(back["malic_acid"], wine_spiky["malic_acid"], rtol=1e-5)
    # A missing cell leaves both the Gaussian's entry and the block empty.
    holed_frame = wine_spiky.copy()
    holed_frame.loc[0, "malic_acid"] = np.nan
    assert np.isnan(encoder.transform(holed_frame)[0, [1, 12, 13]]).all()


def test_point_masses_of_an_all_numeric_array(cancer):
    X = cancer[0].copy()
    X[: len(X) // 2, 3] = 0.0
    encoder = TabularEncoder(point_mass_share=0.3).fit(X)
    assert encoder.columns_[3].point_masses == (0.0,)
    encoded = encoder.transform(X)
    assert encoded.shape == (len(X), X.shape[1] + 2)
    back = encoder.inverse_transform(np.nan_to_num(encoded))
    np.testing.assert_allclose(back, X, rtol=1e-5, atol=1e-6)
    assert (back[: len(X) // 2, 3] == 0).all()


def test_on_grid_rounds_to_the_training_grid():
    frame = pd.DataFrame({"half": [0.5, 1.0, 2.5, 4.0], "free": [0.1, 0.27, 0.3, 1.0]})
    encoder = TabularEncoder().fit(frame)
    encoded = encoder.transform(frame) + 0.1
    back = encoder.inverse_transform(encoded, on_grid=True)
    assert np.allclose((back["half"] - 0.5) / 0.5, np.rint((back["half"] - 0.5) / 0.5))
    assert not np.allclose(back["free"], frame["free"])
    off_grid = encoder.inverse_transform(encoded)
    assert not np.allclose(
        (off_grid["half"] - 0.5) / 0.5, np.rint((off_grid["half"] - 0.5) / 0.5)
    )


@pytest.fixture
def two_humps():
    """A column of two well separated humps, a fifth of its cells at 0."""
    rng = np.random.RandomState(0)
    values = np.concatenate([rng.normal(20, 1, 800), rng.normal(60, 4, 800)])
    values[rng.rand(len(values)) < 0.2] = 0.0
    return pd.DataFrame({"x": values})


def test_a_value_past_float64_squares_quietly_with_modes(two_humps):
    # Choosing its mode squared it to inf: a RuntimeWarning on top of ours.
    encoder = TabularEncoder(max_modes=5).fit(two_humps)
    far = pd.DataFrame({"x": [1e300, 20.0]})
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        encoded = encoder.transform(far)
    assert [w.category for w in caught] == [UserWarning]
    assert np.isfinite(encoded).all()


def test_modes_find_the_humps_and_code_each_value_by_its_own(two_humps):
    encoder = TabularEncoder(max_modes=5).fit(two_humps)
    modes = encoder.columns_[0].modes
    weights, means, stds = np.array(modes).T
    assert len(modes) >= 2 and np.isclose(weights.sum(), 1)
    # Each hump is covered by modes centred on it (the 0s, a fifth, too).
    assert np.isclose(weights[np.abs(means - 60) < 10].sum(), 0.4, atol=0.1)
    encoded = encoder.transform(two_humps)
    n_modes = len(modes)
    assert encoder.category_sizes_ == [n_modes]
    block = encoded[:, 1:]
    np.testing.assert_array_equal(block.sum(axis=1), 1)
    # The numeric entry is the distance from the mode's mean in its stds.
    mode = block.argmax(axis=1)
    x = two_humps["x"].to_numpy()
    np.testing.assert_allclose(encoded[:, 0], (x - means[mode]) / stds[mode], rtol=1e-5)
    assert np.all(np.abs(encoded[:, 0]) < 6)
    back = encoder.inverse_transform(encoded)
    np.testing.assert_allclose(back["x"], x, rtol=1e-5, atol=1e-4)


@pytest.mark.parametrize("scaling", ["standard", "robust"])
def test_values_near_the_float_limit_are_scaled_as_any_others(scaling):
    # Their squares overflow float64: a plain std would be infinite and would
    # flatten the column to 0. Mostly zeros, so the robust scale (IQR 0) falls
    # back to the std too.
    x = np.zeros(200)
    x[::10] = np.random.RandomState(0).normal(5, 2, 20)
    plain = TabularEncoder(scaling=scaling).fit(pd.DataFrame({"x": x}))
    huge = TabularEncoder(scaling=scaling).fit(pd.DataFrame({"x": x * 1e300}))
    np.testing.assert_allclose(huge.scale_, plain.scale_ * 1e300, rtol=1e-9)
    np.testing.assert_allclose(
        huge.transform(pd.DataFrame({"x": x * 1e300})),
        plain.transform(pd.DataFrame({"x": x})),
        rtol=1e-6,
    )


def test_modes_of_values_near_the_float_limit(two_humps):
    # Their squares overflow float64; the modes are found all the same.
    huge = two_humps * 1e300
    encoder = TabularEncoder(max_modes=5).fit(huge)
    weights, means, stds = np.array(encoder.columns_[0].modes).T
    assert len(weights) >= 2 and np.isclose(weights.sum(), 1)
    assert np.isfinite(means).all() and (stds > 0).all() and np.isfinite(stds).all()
    assert np.isclose(weights[np.abs(means / 1e300 - 60) < 10].sum(), 0.4, atol=0.1)
    back = encoder.inverse_transform(encoder.transform(huge))
    np.testing.assert_allclose(back["x"], huge["x"], rtol=1e-5, atol=1e296)


def test_modes_and_point_masses_share_one_block(two_humps):
    encoder = TabularEncoder(point_mass_share=0.1, max_modes=5).fit(two_humps)
    column = encoder.columns_[0]
    assert column.point_masses == (0.0,)
    n_modes = len(column.modes)
    assert n_modes >= 2
    assert encoder.category_sizes_ == [n_modes + 1]
    assert list(encoder.point_mass_variables_) == [0]
    encoded = encoder.transform(two_humps)
    at_zero = (two_humps["x"] == 0).to_numpy()
    block = encoded[:, 1:]
    np.testing.assert_array_equal(block[:, n_modes], at_zero)
    assert np.isnan(encoded[at_zero, 0]).all()
    # The modes are fitted to the continuous values only.
    assert min(m for _, m, _ in column.modes) > 10
    back = encoder.inverse_transform(np.nan_to_num(encoded))
    assert (back["x"][at_zero] == 0).all()
    np.testing.assert_allclose(back["x"], two_humps["x"], rtol=1e-5, atol=1e-4)
    holed = two_humps.copy()
    holed.loc[0, "x"] = np.nan
    assert np.isnan(encoder.transform(holed)[0, : 2 + n_modes]).all()


@pytest.mark.parametrize("scaling", ["quantile", "none"])
def test_modes_only_with_standard_or_robust_scaling(two_humps, scaling):
    other_scaling = TabularEncoder(scaling=scaling, max_modes=5).fit(two_humps)
    assert other_scaling.mixture_index_ == []
    assert TabularEncoder(max_modes=1).fit(two_humps).mixture_index_ == []
    robust = TabularEncoder(scaling="robust", max_modes=5).fit(two_humps)
    assert robust.columns_[0].modes


def test_a_column_with_modes_has_no_grid_bins():
    values = np.r_[np.arange(0, 50), np.arange(200, 250)].astype(float)
    frame = pd.DataFrame({"count": np.repeat(values, 5)})
    assert TabularEncoder().fit(frame).half_bins_[0] > 0
    assert TabularEncoder(max_modes=5).fit(frame).half_bins_[0] == 0


def test_an_encoder_pickled_before_modes_still_decodes(wine_spiky):
    encoder = TabularEncoder(point_mass_share=0.2).fit(wine_spiky)
    encoded = encoder.transform(wine_spiky)
    state = encoder.__getstate__().copy()
    state["point_mass_index_"] = state.pop("mixture_index_")
    state["point_mass_variables_"] = state.pop("mixture_variables_")
    state["continuous_entries_"] = state.pop("mode_entries_")
    del state["mode_blocks_"]
    old = TabularEncoder.__new__(TabularEncoder)
    old.__setstate__(state)
    np.testing.assert_array_equal(old.transform(wine_spiky), encoded)
    pd.testing.assert_frame_equal(
        old.inverse_transform(np.nan_to_num(encoded)),
        encoder.inverse_transform(np.nan_to_num(encoded)),
    )
