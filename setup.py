# Reads settings.ini (nbdev 2's project file). Written without pkg_resources, which setuptools >= 81 no longer has.
from configparser import ConfigParser
import setuptools

cfg = ConfigParser(delimiters=['='])
cfg.read('settings.ini', encoding='utf-8')
cfg = cfg['DEFAULT']
# settings.ini's git_url is nbdev's placeholder (https://github.com/%(user)s/...): a home page only when `repo_url`
# names the real repository.
# An SPDX license expression (PEP 639): setuptools >= 77 warns on every build about a License classifier
licenses = {'apache2': 'Apache-2.0'}
statuses = ['1 - Planning', '2 - Pre-Alpha', '3 - Alpha', '4 - Beta', '5 - Production/Stable', '6 - Mature', '7 - Inactive']
py_versions = '3.10 3.11 3.12 3.13'.split()
lic = licenses[cfg['license']]
min_python = cfg['min_python']
requirements = cfg.get('requirements', '').split()
dev_requirements = cfg.get('dev_requirements', '').split()
onnx_requirements = cfg.get('onnx_requirements', '').split()
console_scripts = cfg.get('console_scripts', '').split()

setuptools.setup(
    name=cfg['lib_name'], version=cfg['version'], description=cfg['description'],
    license_expression=lic, license_files=['LICENSE'], author=cfg['author'], author_email=cfg['author_email'],
    keywords=cfg['keywords'].split(),
    classifiers=['Development Status :: ' + statuses[int(cfg['status'])],
                 'Intended Audience :: ' + cfg['audience'].title(),
                 'Natural Language :: ' + cfg['language'].title()] +
                ['Programming Language :: Python :: ' + o for o in py_versions[py_versions.index(min_python):]],
    url=cfg.get('repo_url') or None,
    # package_dir {'': '.'}: an editable install is a plain .pth entry for the repository root, which setuptools makes
    # silently (its import-finder strategy prints a warning box on every `pip install -e .`)
    packages=setuptools.find_packages(include=['self_supervised', 'self_supervised.*']), package_dir={'': '.'},
    include_package_data=True, install_requires=requirements,
    extras_require={'dev': dev_requirements, 'onnx': onnx_requirements},
    python_requires='>=' + min_python,
    long_description=open('README.md', encoding='utf-8').read(), long_description_content_type='text/markdown',
    zip_safe=False, entry_points={'console_scripts': console_scripts, 'nbdev': [f'{cfg["lib_path"]}={cfg["lib_path"]}._modidx:d']},
)
