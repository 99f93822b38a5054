//! Authorities, API keys and the caller they identify.
//!
//! A key reads `sp_<prefix>_<secret>`. Only the SHA-256 of the whole key is stored,
//! with the prefix in clear so a key can be named and revoked without its secret.

use base64::Engine;
use chrono::Utc;
use entity::{api_key, audit_event, authority};
use sea_orm::ActiveValue::Set;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
};
use sha2::{Digest, Sha256};

use super::codes::Role;
use crate::error::{AppError, AppResult};

/// Who is asking: the authority and role of a valid key.
#[derive(Clone, Debug)]
pub struct Caller {
    pub authority_id: i32,
    pub authority_slug: String,
    pub authority_name: String,
    pub role: Role,
    pub key_prefix: String,
    /// The organization a provider key acts for.
    pub organization_id: Option<String>,
}

impl Caller {
    /// Editors and admins write their authority's listings; analysts only read.
    pub fn require_editor(&self) -> AppResult<()> {
        match self.role {
            Role::Editor | Role::Admin => Ok(()),
            Role::Analyst => Err(AppError::Forbidden(
                "an analyst key cannot change listings".into(),
            )),
            Role::Referrer => Err(AppError::Forbidden(
                "a referrer key cannot change listings".into(),
            )),
            Role::Provider => Err(AppError::Forbidden(
                "a provider key can only update its organization's capacity".into(),
            )),
        }
    }

    /// Whether the caller may act for the group that runs a service of
    /// `organization_id` owned by `authority_id`: that organization's provider, or an
    /// editor or admin of the owning authority.
    pub fn require_provider_of(
        &self,
        authority_id: i32,
        organization_id: &str,
        what: &str,
    ) -> AppResult<()> {
        match self.role {
            Role::Provider
                if authority_id == self.authority_id
                    && self.organization_id.as_deref() == Some(organization_id) =>
            {
                Ok(())
            }
            Role::Provider => Err(AppError::Forbidden(format!(
                "{what} belongs to another organization"
            ))),
            _ => {
                self.require_editor()?;
                self.require_owner(authority_id, what)
            }
        }
    }

    pub fn require_admin(&self) -> AppResult<()> {
        match self.role {
            Role::Admin => Ok(()),
            _ => Err(AppError::Forbidden("this needs an admin key".into())),
        }
    }

    /// The owner check every write and owner-only read goes through.
    pub fn require_owner(&self, authority_id: i32, what: &str) -> AppResult<()> {
        if authority_id == self.authority_id {
            Ok(())
        } else {
            Err(AppError::Forbidden(format!(
                "{what} belongs to another authority"
            )))
        }
    }
}

/// The caller, or UNAUTHENTICATED.
pub fn signed_in(caller: Option<&Caller>) -> AppResult<&Caller> {
    caller.ok_or_else(|| AppError::Unauthenticated("send Authorization: Bearer <key>".into()))
}

/// A key just made: shown once, never stored in clear.
pub struct NewKey {
    pub token: String,
    pub row: api_key::Model,
}

fn random_bytes<const N: usize>() -> AppResult<[u8; N]> {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes).map_err(AppError::internal)?;
    Ok(bytes)
}

fn hash(token: &str) -> String {
    Sha256::digest(token.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The prefix of a well-formed key.
pub fn prefix_of(token: &str) -> Option<&str> {
    let rest = token.strip_prefix("sp_")?;
    let (prefix, secret) = rest.split_once('_')?;
    (prefix.len() == 8 && prefix.bytes().all(|b| b.is_ascii_hexdigit()) && !secret.is_empty())
        .then_some(prefix)
}

/// A slug names an authority in commands and URLs: lower-case letters, digits, hyphens.
pub fn check_slug(slug: &str) -> AppResult<()> {
    let ok = (1..=64).contains(&slug.len())
        && slug
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !slug.starts_with('-');
    if ok {
        Ok(())
    } else {
        Err(AppError::bad_input(
            "slug",
            format!("'{slug}' must be 1–64 lower-case letters, digits or hyphens"),
        ))
    }
}

pub async fn create_authority(
    db: &impl ConnectionTrait,
    slug: &str,
    name: &str,
) -> AppResult<authority::Model> {
    check_slug(slug)?;
    let name = super::validate::name("name", name)?;
    if find_authority(db, slug).await?.is_some() {
        return Err(AppError::bad_input(
            "slug",
            format!("authority '{slug}' already exists"),
        ));
    }
    let row = authority::ActiveModel {
        slug: Set(slug.to_string()),
        name: Set(name),
        created_at: Set(Utc::now()),
        ..Default::default()
    };
    Ok(row.insert(db).await?)
}

/// The authority `slug`, created (with every check of `create_authority`) when it
/// is new: how imports, feeds and the demo name their owner.
pub async fn ensure_authority(
    db: &impl ConnectionTrait,
    slug: &str,
    name: &str,
) -> AppResult<authority::Model> {
    match find_authority(db, slug).await? {
        Some(found) => Ok(found),
        None => create_authority(db, slug, name).await,
    }
}

pub async fn find_authority(
    db: &impl ConnectionTrait,
    slug: &str,
) -> AppResult<Option<authority::Model>> {
    Ok(authority::Entity::find()
        .filter(authority::Column::Slug.eq(slug))
        .one(db)
        .await?)
}

fn key_audit(row: &api_key::Model, actor: &str, action: &str) -> audit_event::ActiveModel {
    let summary = serde_json::json!({
        "prefix": row.prefix, "role": row.role, "organizationId": row.organization_id,
        "revokedAt": row.revoked_at,
    });
    audit_event::ActiveModel {
        authority_id: Set(Some(row.authority_id)),
        actor: Set(actor.to_string()),
        entity: Set("api_key".into()),
        entity_id: Set(row.prefix.clone()),
        action: Set(action.into()),
        before: Set(None),
        after: Set(Some(summary)),
        request_id: Set(None),
        created_at: Set(Utc::now()),
        ..Default::default()
    }
}

/// Make a key for the authority `slug`; a provider key names the `organization` it
/// acts for (one of the authority's), no other role does. `actor` is who asked (for
/// the audit trail).
pub async fn create_key(
    db: &DatabaseConnection,
    slug: &str,
    role: Role,
    organization: Option<&str>,
    actor: &str,
) -> AppResult<NewKey> {
    let txn = crate::db::begin_write(db).await?;
    let owner = find_authority(&txn, slug)
        .await?
        .ok_or_else(|| AppError::bad_input("authority", format!("no authority '{slug}'")))?;
    let organization = match (role, organization.map(str::trim)) {
        (Role::Provider, Some(id)) if !id.is_empty() => {
            let found = entity::organization::Entity::find_by_id(id.to_string())
                .one(&txn)
                .await?
                .filter(|o| o.authority_id == owner.id)
                .ok_or_else(|| {
                    AppError::bad_input(
                        "organization",
                        format!("no organization '{id}' of authority '{slug}'"),
                    )
                })?;
            Some(found.id)
        }
        (Role::Provider, _) => {
            return Err(AppError::bad_input(
                "organization",
                "a provider key acts for one organization: name it",
            ));
        }
        (_, Some(_)) => {
            return Err(AppError::bad_input(
                "organization",
                "only a provider key is scoped to an organization",
            ));
        }
        (_, None) => None,
    };
    let prefix: String = random_bytes::<4>()?
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let secret = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(random_bytes::<32>()?);
    let token = format!("sp_{prefix}_{secret}");
    let row = api_key::ActiveModel {
        authority_id: Set(owner.id),
        prefix: Set(prefix),
        key_hash: Set(hash(&token)),
        role: Set(role.code().to_string()),
        organization_id: Set(organization),
        created_at: Set(Utc::now()),
        revoked_at: Set(None),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    audit_event::Entity::insert(key_audit(&row, actor, "create"))
        .exec_without_returning(&txn)
        .await?;
    txn.commit().await?;
    Ok(NewKey { token, row })
}

/// Revoke the key with `prefix`; with `within`, only a key of that authority.
pub async fn revoke_key(
    db: &DatabaseConnection,
    prefix: &str,
    within: Option<i32>,
    actor: &str,
) -> AppResult<api_key::Model> {
    let txn = crate::db::begin_write(db).await?;
    let key = api_key::Entity::find()
        .filter(api_key::Column::Prefix.eq(prefix))
        .one(&txn)
        .await?
        .filter(|k| within.is_none_or(|a| a == k.authority_id))
        .ok_or_else(|| AppError::NotFound(format!("no key with prefix '{prefix}'")))?;
    if key.revoked_at.is_some() {
        return Ok(key);
    }
    let mut active: api_key::ActiveModel = key.into();
    active.revoked_at = Set(Some(Utc::now()));
    let row = active.update(&txn).await?;
    audit_event::Entity::insert(key_audit(&row, actor, "revoke"))
        .exec_without_returning(&txn)
        .await?;
    txn.commit().await?;
    Ok(row)
}

/// The caller a bearer token identifies; a malformed, unknown or revoked key is
/// UNAUTHENTICATED (one message for all, so keys cannot be probed).
/// Whether the key a caller signed in with is still live (not revoked since): long
/// connections (WebSocket) ask again before each operation and each event they send.
pub async fn still_live(db: &impl ConnectionTrait, caller: &Caller) -> AppResult<bool> {
    Ok(api_key::Entity::find()
        .filter(api_key::Column::Prefix.eq(caller.key_prefix.as_str()))
        .filter(api_key::Column::RevokedAt.is_null())
        .one(db)
        .await?
        .is_some())
}

pub async fn authenticate(db: &impl ConnectionTrait, token: &str) -> AppResult<Caller> {
    let refused = || AppError::Unauthenticated("invalid or revoked API key".into());
    let prefix = prefix_of(token).ok_or_else(refused)?;
    let found = api_key::Entity::find()
        .filter(api_key::Column::Prefix.eq(prefix))
        .filter(api_key::Column::RevokedAt.is_null())
        .find_also_related(authority::Entity)
        .one(db)
        .await?;
    let Some((key, Some(owner))) = found else {
        return Err(refused());
    };
    // Comparing digests, not secrets: timing reveals nothing about the key.
    if key.key_hash != hash(token) {
        return Err(refused());
    }
    let role = Role::from_code(&key.role).ok_or_else(refused)?;
    Ok(Caller {
        authority_id: owner.id,
        authority_slug: owner.slug,
        authority_name: owner.name,
        role,
        key_prefix: key.prefix,
        organization_id: key.organization_id,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_well_formed_keys_have_a_prefix() {
        assert_eq!(prefix_of("sp_0a1b2c3d_secret"), Some("0a1b2c3d"));
        for bad in [
            "",
            "sp_",
            "sp_0a1b2c3d_",
            "sp_0a1b2c3_secret",
            "xx_0a1b2c3d_secret",
            "sp_0a1b2c3z_secret",
        ] {
            assert_eq!(prefix_of(bad), None, "{bad}");
        }
    }

    #[test]
    fn a_key_is_stored_as_its_sha256() {
        assert_eq!(
            hash("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn slugs_are_lower_case_words() {
        assert!(check_slug("trafford").is_ok());
        assert!(check_slug("north-west-2").is_ok());
        for bad in ["", "Trafford", "a b", "-x", "a_b"] {
            assert!(check_slug(bad).is_err(), "{bad}");
        }
    }
}
