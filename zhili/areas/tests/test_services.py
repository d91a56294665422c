import pytest

from zhili.accounts.models import Position
from zhili.areas import services
from zhili.areas.models import Area, AreaChange, Rezoning
from zhili.core import codes
from zhili.core.models import AuditLog
from zhili.core.services import ServiceError
from zhili.orgs.models import Organisation

pytestmark = pytest.mark.django_db


def errors(exc) -> dict:
    return exc.value.field_messages


def test_create_checks_code_against_parent(world, personas):
    admin = personas["district_admin"].user
    area = services.create_area(actor=admin, parent=world.town_a1, code="320612001002",
                                name="新村社区", community_type="new_estate")
    assert area.code == codes.pad("320612001002") and area.level == 4
    assert AuditLog.objects.filter(action="area.create", target_id=str(area.pk)).exists()
    with pytest.raises(ServiceError) as exc:
        services.create_area(actor=admin, parent=world.town_a1, code="320612002003", name="x")
    assert "does not extend" in errors(exc)["code"][0]
    with pytest.raises(ServiceError) as exc:
        services.create_area(actor=admin, parent=world.town_a1, code="320612001002", name="y")
    assert "already used by 新村社区" in errors(exc)["code"][0]
    with pytest.raises(ServiceError) as exc:
        services.create_area(actor=admin, parent=world.town_a1, code="32061200100a", name="z")
    assert "digits only" in errors(exc)["code"][0]


def test_create_refuses_a_parent_outside_the_actors_reach(world, personas):
    with pytest.raises(ServiceError) as exc:
        services.create_area(actor=personas["town_admin"].user, parent=world.town_a2,
                             code="320612002202", name="越权村")
    assert exc.value.code == "out_of_scope"
    assert not Area.objects.filter(code=codes.pad("320612002202")).exists()


def test_grid_without_code_takes_next_free_number(world, personas):
    grid = services.create_area(actor=personas["town_admin"].user, parent=world.village_a1,
                                name="第3网格")
    assert grid.code == codes.pad("320612001001003")


def test_community_type_only_on_villages_and_polygon_checked(world, personas):
    admin = personas["district_admin"].user
    with pytest.raises(ServiceError) as exc:
        services.create_area(actor=admin, parent=world.county_a, code="320612003", name="镇",
                             community_type="old_estate")
    assert "community type" in errors(exc)["community_type"][0]
    with pytest.raises(ServiceError) as exc:
        services.update_area(actor=admin, area=world.town_a1,
                             polygon={"type": "Polygon", "coordinates": [[[120, 32], [121, 32],
                                                                          [121, 33]]]})
    assert "four positions" in errors(exc)["polygon"][0]
    square = {"type": "Polygon",
              "coordinates": [[[120, 32], [121, 32], [121, 33], [120, 33], [120, 32]]]}
    area = services.update_area(actor=admin, area=world.town_a1, polygon=square, name="金沙")
    assert area.polygon == square and area.name == "金沙"


def test_retire_is_refused_while_anything_points_at_the_area(world, personas):
    admin = personas["district_admin"].user
    with pytest.raises(ServiceError) as exc:
        services.retire_area(actor=admin, area=world.village_a1)
    assert "still has 2 active sub-areas" in exc.value.message
    empty_grid = world.grid_a1b
    Organisation.objects.create(name="网格驿站", kind="other", area=empty_grid,
                                area_code=empty_grid.code)
    with pytest.raises(ServiceError) as exc:
        services.retire_area(actor=admin, area=empty_grid)
    assert "still in use" in exc.value.message and "organisations 1" in exc.value.message
    Organisation.objects.filter(area=empty_grid).delete()
    services.retire_area(actor=admin, area=empty_grid, note="并入第1网格")
    empty_grid.refresh_from_db()
    assert empty_grid.status == "retired" and empty_grid.valid_to is not None
    assert AreaChange.objects.filter(area=empty_grid, kind="retired").exists()


def test_merge_moves_children_and_live_rows_and_keeps_history(world, personas,
        django_capture_on_commit_callbacks):
    admin = personas["district_admin"].user
    worker = personas["grid_worker"]  # holds a position in grid 320612001001001
    org = Organisation.objects.create(name="东市社区居委会", kind="committee",
                                      area=world.village_a1, area_code=world.village_a1.code)
    with django_capture_on_commit_callbacks(execute=True):
        services.merge_areas(actor=admin, source=world.town_a1, target=world.town_a2,
                             note="通政复〔2026〕1号")
    world.town_a1.refresh_from_db()
    world.village_a1.refresh_from_db()
    assert world.town_a1.status == "retired" and world.town_a1.successor == world.town_a2
    # 001 is free under 320612002, so the community keeps its own digits.
    assert world.village_a1.code == codes.pad("320612002001")
    assert world.village_a1.parent == world.town_a2
    world.grid_a1.refresh_from_db()
    assert world.grid_a1.code == codes.pad("320612002001001")
    # The re-zoning job ran on commit (inline in tests) and moved every live row.
    assert not Rezoning.objects.filter(status="pending").exists()
    position = Position.objects.get(user=worker.user)
    assert position.area_code == codes.pad("320612002001001")
    org.refresh_from_db()
    assert org.area_code == codes.pad("320612002001")
    # Rows attached to the retired town itself follow it to its successor, FK included.
    centre = Organisation.objects.get(name="金沙街道综治中心")
    assert centre.area_code == world.town_a2.code and centre.area_id == world.town_a2.pk
    # The worker's scope follows: they still see their grid under its new code.
    assert Area.objects.restrict(worker.user).filter(pk=world.grid_a1.pk).exists()


def test_merge_renumbers_a_child_whose_digits_are_taken(world, personas,
        django_capture_on_commit_callbacks):
    admin = personas["district_admin"].user
    services.create_area(actor=admin, parent=world.town_a2, code="320612002001", name="占位社区")
    with django_capture_on_commit_callbacks(execute=True):
        services.merge_areas(actor=admin, source=world.town_a1, target=world.town_a2)
    world.village_a1.refresh_from_db()
    assert world.village_a1.code == codes.pad("320612002002")


def test_merge_refuses_a_target_outside_reach_or_of_another_level(world, personas):
    with pytest.raises(ServiceError) as exc:
        services.merge_areas(actor=personas["town_admin"].user, source=world.village_a1,
                             target=world.village_a2)
    assert exc.value.code == "out_of_scope"
    with pytest.raises(ServiceError) as exc:
        services.merge_areas(actor=personas["district_admin"].user, source=world.village_a1,
                             target=world.town_a2)
    assert "same level" in errors(exc)["target"][0]


def test_split_creates_siblings_and_distributes_children(world, personas,
        django_capture_on_commit_callbacks):
    admin = personas["district_admin"].user
    parts = [services.SplitPart(name="东市一社区", code="320612001011",
                                child_ids=[world.grid_a1.pk]),
             services.SplitPart(name="东市二社区", code="320612001012",
                                child_ids=[world.grid_a1b.pk])]
    with django_capture_on_commit_callbacks(execute=True):
        first, second = services.split_area(actor=admin, source=world.village_a1, parts=parts)
    world.grid_a1b.refresh_from_db()
    assert world.grid_a1b.parent == second
    assert world.grid_a1b.code == codes.pad("320612001012002")
    worker = Position.objects.get(user=personas["grid_worker"].user)
    assert worker.area_code == codes.pad("320612001011001")
    world.village_a1.refresh_from_db()
    assert world.village_a1.status == "retired" and world.village_a1.successor == first


def test_split_must_assign_every_child(world, personas):
    parts = [services.SplitPart(name="a", code="320612001011", child_ids=[world.grid_a1.pk]),
             services.SplitPart(name="b", code="320612001012")]
    with pytest.raises(ServiceError) as exc:
        services.split_area(actor=personas["district_admin"].user, source=world.village_a1,
                            parts=parts)
    assert "exactly one new area" in errors(exc)["parts"][0]
    assert not Area.objects.filter(code=codes.pad("320612001011")).exists()


def test_recode_moves_subtree_and_rows(world, personas,
        django_capture_on_commit_callbacks):
    admin = personas["district_admin"].user
    with django_capture_on_commit_callbacks(execute=True):
        services.recode_area(actor=admin, area=world.village_a1, new_code="320612001009")
    world.grid_a1.refresh_from_db()
    assert world.grid_a1.code == codes.pad("320612001009001")
    assert Position.objects.get(user=personas["grid_worker"].user).area_code == \
        world.grid_a1.code
    with pytest.raises(ServiceError) as exc:
        services.recode_area(actor=admin, area=world.village_a1, new_code="320612001009")
    assert "already" in errors(exc)["new_code"][0]


def test_rewrite_prefix_works_in_batches_and_is_rerunnable(world):
    from zhili.core.rezoning import rewrite_prefix

    for i in range(25):
        Organisation.objects.create(name=f"单位{i}", kind="other", area=world.grid_a1,
                                    area_code=world.grid_a1.code)
    batches = []
    moved = rewrite_prefix("320612001", "320612009", batch_size=10, on_batch=batches.append)
    # 25 units + the town centre and outlet, and the town admin's and grid worker's positions.
    assert moved == 29 and sum(batches) == 29 and max(batches) <= 10
    assert Organisation.objects.filter(area_code__startswith="320612009").count() == 27
    assert Position.objects.filter(area_code__startswith="320612009").count() == 2
    assert rewrite_prefix("320612001", "320612009") == 0
