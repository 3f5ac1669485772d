import numpy as np
import pytest

from proxlab.groups import Groups


def test_equal_contiguous_groups():
    g = Groups(12, 4)
    assert g.n_groups == 3 and g.contiguous
    np.testing.assert_array_equal(g.ptr, [0, 4, 8, 12])
    np.testing.assert_allclose(g.weights, 2.0)  # sqrt(4)
    x = np.arange(12.0)
    np.testing.assert_allclose(g.norms(x), [np.linalg.norm(x[i:i + 4]) for i in (0, 4, 8)])


def test_index_groups_are_sorted_and_may_leave_coordinates_out():
    g = Groups(6, [[4, 0], [2]], weights="ones")
    np.testing.assert_array_equal(g.idx, [0, 4, 2])
    np.testing.assert_array_equal(g.ptr, [0, 2, 3])
    np.testing.assert_array_equal(g.covered(), [True, False, True, False, True, False])
    np.testing.assert_array_equal(g.weights, [1.0, 1.0])
    assert not g.contiguous
    assert [a.tolist() for a in g.as_list()] == [[0, 4], [2]]


@pytest.mark.parametrize("groups,match", [
    (5, "group size 5 does not divide"),
    ([[0, 1], [1, 2]], "overlap: index 1"),
    ([[0, 7]], "index 7 outside"),
    ([[0, -1]], "index -1 outside"),
    ([[0, 0]], "repeats an index"),
    ([[]], r"groups\[0\]"),
    ([], "empty"),
    (0, "groups must be >= 1"),
])
def test_bad_groups_raise(groups, match):
    with pytest.raises(ValueError, match=match):
        Groups(6, groups)


def test_bad_types_and_weights():
    with pytest.raises(TypeError, match="groups"):
        Groups(6, "abc")
    with pytest.raises(TypeError, match=r"groups\[0\]"):
        Groups(6, [[0.5, 1.0]])
    with pytest.raises(ValueError, match="weights"):
        Groups(6, 3, weights=[1.0])
    with pytest.raises(ValueError, match="weights"):
        Groups(6, 3, weights=[1.0, -1.0])
    with pytest.raises(ValueError, match="weights"):
        Groups(6, 3, weights="log")
    with pytest.raises(ValueError, match="n must be >= 1"):
        Groups(0, 1)
