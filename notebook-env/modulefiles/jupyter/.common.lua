-- The notebook environment, one file for every version: each version's
-- modulefile (jupyter/VERSION.lua) is a link to this one.
--
-- Laid out as published:  ROOT/modulefiles/jupyter/VERSION.lua
--                         ROOT/envs/jupyter/VERSION/{bin,share/jupyter,etc/jupyter}
-- so the environment is found next to the modulefile, wherever ROOT is mounted.

local name = myModuleName()
local version = myModuleVersion()
local modulefiles = myFileName():match("^(.*)/[^/]+/[^/]+$")
local root = modulefiles:match("^(.*)/[^/]+$")
local prefix = pathJoin(root, "envs", name, version)

help(string.format([[
The Jupyter notebook environment %s: JupyterLab, the JupyterHub single-user
server, jupyter-server-proxy with the Xpra desktop, and the kernels it lists
(`jupyter kernelspec list`).

Installed in %s.
Notebook jobs of the hub load it themselves; load it yourself to use the same
tools in a terminal.
]], version, prefix))

whatis("Name: " .. name)
whatis("Version: " .. version)
whatis("Description: Jupyter notebook environment (JupyterLab, single-user server, kernels)")
whatis("URL: https://jupyter.org")

family("jupyter")

if not isDir(prefix) then
    LmodError(string.format([[
The notebook environment %s/%s is not available here:
%s does not exist.
Its repository (%s) is probably not mounted on this machine. Check with
`ls %s`; if that fails, ask your site admin to check the CVMFS client.]],
        name, version, prefix, root, root))
end

prepend_path("PATH", pathJoin(prefix, "bin"))
prepend_path("JUPYTER_PATH", pathJoin(prefix, "share", "jupyter"))
prepend_path("JUPYTER_CONFIG_PATH", pathJoin(prefix, "etc", "jupyter"))
setenv("UNCHAINED_JUPYTER_PREFIX", prefix)
setenv("UNCHAINED_JUPYTER_VERSION", version)
