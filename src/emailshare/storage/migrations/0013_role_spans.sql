-- Roles numbered by a depth-first walk (domain/roles.py): role A is above role B exactly when
-- A.lo < B.lo <= A.hi. The numbering replaces role_ancestors, the hierarchy closed at load
-- time, whose rows grow with the square of the depth (a chain of 4 000 roles: 8 million rows,
-- 514 MB). A store loaded before is numbered here from that closure, in the walk's order
-- (roots, then each role's reports, in id order, as domain.roles.number_roles does); then the
-- closure goes. Linear in the closure's rows, and in each role's siblings.

ALTER TABLE roles ADD COLUMN lo BIGINT NOT NULL DEFAULT 0;
ALTER TABLE roles ADD COLUMN hi BIGINT NOT NULL DEFAULT 0;

-- How many roles are under each role that has any.
CREATE TABLE role_spans_below AS
    SELECT org_id, ancestor_id AS id, COUNT(*) AS below FROM role_ancestors
    GROUP BY org_id, ancestor_id;
CREATE INDEX role_spans_below_by_id ON role_spans_below (org_id, id);

-- Each role's offset among its siblings: the roles in the subtrees of its siblings of lower id.
CREATE TABLE role_spans_offset AS
    SELECT z.org_id, z.id, (
        SELECT COALESCE(SUM(1 + COALESCE(b.below, 0)), 0) FROM roles y
        LEFT JOIN role_spans_below b ON b.org_id = y.org_id AND b.id = y.id
        WHERE y.org_id = z.org_id AND y.id < z.id
          AND (y.reports_to = z.reports_to OR (y.reports_to IS NULL AND z.reports_to IS NULL))
    ) AS off FROM roles z;
CREATE INDEX role_spans_offset_by_id ON role_spans_offset (org_id, id);

-- A role's position: its offset, plus one and the offset of each role above it.
UPDATE roles SET lo = (
    SELECT o.off FROM role_spans_offset o WHERE o.org_id = roles.org_id AND o.id = roles.id
) + (
    SELECT COALESCE(SUM(1 + o.off), 0) FROM role_ancestors a
    JOIN role_spans_offset o ON o.org_id = a.org_id AND o.id = a.ancestor_id
    WHERE a.org_id = roles.org_id AND a.role_id = roles.id
);
UPDATE roles SET hi = lo + COALESCE((
    SELECT b.below FROM role_spans_below b WHERE b.org_id = roles.org_id AND b.id = roles.id
), 0);

DROP TABLE role_spans_offset;
DROP TABLE role_spans_below;
DROP TABLE role_ancestors;
