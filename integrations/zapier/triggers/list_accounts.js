'use strict';
// Hidden trigger feeding the Accounts dropdown of Create Post ("list_accounts.id.label").

const catalogue = require('../lib/catalogue');
const { apiUrl } = require('../lib/api');

const label = (a) => `${a.display_name || a.handle} (${a.platform} @${a.handle})`;

const perform = async (z, bundle) => {
  const response = await z.request({ url: apiUrl(z, bundle, '/v1/accounts') });
  return response.data.data.map((account) => ({ ...account, label: label(account) }));
};

module.exports = catalogue.operation('triggers', 'list_accounts', { perform });
