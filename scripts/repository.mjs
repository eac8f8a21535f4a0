// The repository's public URL (the one setting NIX_FLAKES_REPOSITORY_URL) turned into what packaging needs: the
// manifest's repository, bugs and homepage, and the bases that make README's relative links absolute. Pure: the
// packaging script and the unit tests import it.

export const SETTING = 'NIX_FLAKES_REPOSITORY_URL';

/**
 * The manifest fields and README link bases for a repository URL, or an error saying what is wrong with it.
 * GitHub and GitLab (gitlab.com or a host named gitlab.*) are known; their web pages serve a file of the default
 * branch at blob/HEAD and its raw bytes at raw/HEAD.
 */
export function repositoryFields(value) {
  let url;
  try {
    url = new URL(value.trim());
  } catch {
    return { error: `${SETTING} is not a URL: ${value}` };
  }
  if (url.protocol !== 'https:') return { error: `${SETTING} must be an https:// URL: ${value}` };
  if (url.search || url.hash || url.username || url.password)
    return { error: `${SETTING} must be the repository's page, without query, fragment or credentials: ${value}` };
  const path = url.pathname.replace(/\/+$/, '').replace(/\.git$/, '');
  if (path.split('/').filter(Boolean).length < 2) return { error: `${SETTING} must name a repository (https://HOST/OWNER/NAME): ${value}` };
  const web = `${url.origin}${path}`;
  let content, images;
  if (url.hostname === 'github.com') {
    content = `${web}/blob/HEAD/`;
    images = `${web}/raw/HEAD/`;
  } else if (url.hostname === 'gitlab.com' || url.hostname.startsWith('gitlab.')) {
    content = `${web}/-/blob/HEAD/`;
    images = `${web}/-/raw/HEAD/`;
  } else {
    return { error: `${SETTING}: README links cannot be made absolute for ${url.hostname} (GitHub and GitLab are known): ${value}` };
  }
  return {
    fields: { repository: { type: 'git', url: `${web}.git` }, bugs: { url: `${web}/issues` }, homepage: `${web}#readme` },
    content,
    images,
  };
}
