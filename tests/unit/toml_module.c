/* Linked into every unit test: the tests load the TOML module of this build,
 * also where the build records no build path (-Dbuild_tree_modules=false, as
 * the Debian package's build runs them). */
#include "toml.h"

__attribute__((constructor)) static void use_build_module(void)
{
    gctk_toml_use_module(TEST_TOML_MODULE);
}
