-- Signed-in routes prepend `SELECT laundry_assert_session(<token sub>, <roles>, <token sid>, <now>)`
-- to their first database call (src/db/role-check.ts), in the same batch, so an access token of an
-- ended session is refused on its next request, not when it expires. It first makes the checks of
-- laundry_assert_role (migration 0006: missing, disabled or demoted user, SQLSTATE LA403), then,
-- when the token names a session (`sid`: the refresh-token family), raises LA401 if that session
-- was ended (`ended_sessions`: logout, DELETE /v1/me/sessions[/{id}], a password change or reset,
-- a role change, a disabled or erased account) or has no live refresh token left (revoked by reuse
-- detection, expired, or removed). A NULL sid (tokens issued before `sid` existed) skips that part.
-- `p_at` is the app's clock, as everywhere the app compares expiry (tests move it).
-- Both lookups are indexed: ended_sessions by its primary key, refresh_tokens by
-- refresh_tokens_family_idx (family_id). Expand-only: laundry_assert_role stays for code that
-- still calls it (a rollback to the previous version).
CREATE OR REPLACE FUNCTION laundry_assert_session(p_user uuid, p_roles text[], p_sid uuid, p_at timestamptz) RETURNS boolean
LANGUAGE plpgsql STABLE AS $$
BEGIN
  PERFORM laundry_assert_role(p_user, p_roles);
  IF p_sid IS NOT NULL AND (
    EXISTS (SELECT 1 FROM ended_sessions WHERE family_id = p_sid)
    OR NOT EXISTS (
      SELECT 1 FROM refresh_tokens
      WHERE family_id = p_sid AND user_id = p_user AND revoked_at IS NULL AND expires_at > p_at
    )
  ) THEN
    RAISE EXCEPTION 'session % of user % was ended', p_sid, p_user USING ERRCODE = 'LA401';
  END IF;
  RETURN true;
END
$$;
