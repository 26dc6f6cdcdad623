//! One interface for file_contexts backends: our own [`FileContexts`] and,
//! with the `libselinux` feature, libselinux's labeler
//! (`selinux_mcs::system::SelabelFileContexts`).

use std::convert::Infallible;
use std::path::Path;
use std::sync::Arc;

use super::FileContexts;
use crate::{FileKind, SecurityContext};

/// A file_contexts backend: the default context of a path.
///
/// [`Restorer`](super::Restorer) works with any of them, so `relabel
/// restore --backend libselinux` runs the same decisions on libselinux's
/// answers.
///
/// Note that [`FileContexts`] also has an inherent `lookup` (infallible,
/// taking any `AsRef<Path>`); method-call syntax picks that one. Call the
/// trait's as `Labeler::lookup(&fc, ...)`.
///
/// ```
/// use std::path::Path;
/// use selinux_mcs::policy::{FileContexts, Labeler};
/// use selinux_mcs::FileKind;
///
/// fn type_of<L: Labeler>(labeler: &L, path: &str) -> Result<Option<String>, L::Error> {
///     Ok(labeler.lookup(Path::new(path), Some(FileKind::File))?.map(|c| c.type_().to_owned()))
/// }
/// let fc = FileContexts::from_str("/etc(/.*)?  system_u:object_r:etc_t:s0\n")?;
/// assert_eq!(type_of(&fc, "/etc/hosts"), Ok(Some("etc_t".to_owned())));
/// assert_eq!(type_of(&fc, "/srv/x"), Ok(None));
/// # Ok::<(), selinux_mcs::policy::PolicyError>(())
/// ```
#[doc(alias = "selabel_handle")]
pub trait Labeler {
    /// Why a lookup failed. [`FileContexts`] never fails
    /// ([`Infallible`]); libselinux can (a call that fails, or a context it
    /// returns that does not parse).
    type Error: std::error::Error + Send + Sync + 'static;

    /// The context the rules give `path` (absolute, as the rules are
    /// written) of kind `kind` (`None`: every rule applies, for a path that
    /// does not exist). `Ok(None)` when no rule applies or the winning rule
    /// says `<<none>>`.
    #[doc(alias = "selabel_lookup")]
    #[doc(alias = "matchpathcon")]
    fn lookup(
        &self,
        path: &Path,
        kind: Option<FileKind>,
    ) -> Result<Option<SecurityContext>, Self::Error>;

    /// After a lookup gave `None`: `Some(true)` when the winning rule says
    /// `<<none>>`, `Some(false)` when no rule applies, `None` when the
    /// backend cannot tell (libselinux answers `ENOENT` for both).
    fn says_no_label(&self, path: &Path, kind: Option<FileKind>) -> Option<bool> {
        let _ = (path, kind);
        None
    }
}

impl Labeler for FileContexts {
    type Error = Infallible;

    fn lookup(
        &self,
        path: &Path,
        kind: Option<FileKind>,
    ) -> Result<Option<SecurityContext>, Infallible> {
        Ok(FileContexts::lookup(self, path, kind))
    }

    fn says_no_label(&self, path: &Path, kind: Option<FileKind>) -> Option<bool> {
        // A rule that wins but gives no context is a `<<none>>` rule.
        Some(self.lookup_rule(path, kind).is_some())
    }
}

macro_rules! forward {
    ($($ptr:ty),*) => {$(
        impl<T: Labeler + ?Sized> Labeler for $ptr {
            type Error = T::Error;
            fn lookup(
                &self,
                path: &Path,
                kind: Option<FileKind>,
            ) -> Result<Option<SecurityContext>, T::Error> {
                (**self).lookup(path, kind)
            }
            fn says_no_label(&self, path: &Path, kind: Option<FileKind>) -> Option<bool> {
                (**self).says_no_label(path, kind)
            }
        }
    )*};
}
forward!(&T, Box<T>, Arc<T>);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_contexts_tells_no_rule_from_none() {
        let fc = FileContexts::from_str(
            "/srv(/.*)?  system_u:object_r:var_t:s0\n/srv/tmp(/.*)?  <<none>>\n",
        )
        .expect("valid rules");
        let l: &dyn Labeler<Error = Infallible> = &fc;
        let p = Path::new("/srv/tmp/x");
        assert_eq!(l.lookup(p, None), Ok(None));
        assert_eq!(l.says_no_label(p, None), Some(true));
        assert_eq!(l.lookup(Path::new("/opt"), None), Ok(None));
        assert_eq!(l.says_no_label(Path::new("/opt"), None), Some(false));
        let arc = Arc::new(fc);
        assert_eq!(
            Labeler::lookup(&arc, Path::new("/srv/a"), Some(FileKind::File))
                .map(|c| c.map(|c| c.to_string())),
            Ok(Some("system_u:object_r:var_t:s0".to_owned()))
        );
    }
}
